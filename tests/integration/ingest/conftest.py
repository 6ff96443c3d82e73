"""A real ingest web server for these tests: werkzeug on a free loopback port, SQLite in tmp_path.

Nothing listens on the configured Redis port, so relays fail and events stay in the outbox, which
is what the service must tolerate anyway.
"""
from __future__ import annotations

import base64
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
import requests
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server

from services.ingest.app import create_app
from services.ingest.db import articles
from shared.config import load_settings
from tests import sample_page
from tests.helpers import migrated

TOKEN = "ingest-live-token"
SECRET = "whsec_" + base64.b64encode(b"inbound-webhook-secret-for-tests").decode()
ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "ingest"
MAX_BODY = 50_000


@dataclass
class Live:
    """The running app and helpers to talk to it over HTTP."""

    app: object
    url: str

    @property
    def engine(self):
        return self.app.extensions["pipeline"].engine

    def count(self, table=articles) -> int:
        with self.engine.begin() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

    def api(self, method: str, path: str, *, token: str | None = TOKEN, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        return requests.request(method, self.url + path, headers=headers, timeout=15, **kwargs)

    def webhook(self, payload, *, msg_id: str, at: datetime | None = None, secret: str = SECRET,
                headers: dict | None = None, raw: bytes | None = None) -> requests.Response:
        """POST a Standard Webhooks signed payload to /webhooks/articles."""
        body = raw.decode("utf-8") if raw is not None else json.dumps(payload, ensure_ascii=False)
        return requests.post(self.url + "/webhooks/articles", data=body.encode("utf-8"), timeout=15,
                             headers={"Content-Type": "application/json", **sign(body, msg_id, at, secret),
                                      **(headers or {})})


def sign(body: str, msg_id: str, at: datetime | None = None, secret: str = SECRET) -> dict:
    """Standard Webhooks headers for ``body``."""
    at = at or datetime.now(timezone.utc)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body)}


@contextmanager
def serve(data_dir: Path) -> Iterator[Live]:
    """Serve a fresh ingest app (its SQLite database under ``data_dir``) over real HTTP."""
    settings = load_settings({"DATA_DIR": str(data_dir), "API_TOKEN": TOKEN, "INBOUND_WEBHOOK_SECRET": SECRET,
                              "REDIS_URL": "redis://127.0.0.1:1/0", "MAX_BODY_BYTES": str(MAX_BODY)})
    app = create_app({"SETTINGS": migrated(settings)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["pipeline"].engine.dispose()


@pytest.fixture
def live(tmp_path):
    """The ingest app served over real HTTP on a free loopback port."""
    with serve(tmp_path) as running:
        yield running


@pytest.fixture
def sample_text():
    """The real sample page (kept outside the repository)."""
    return sample_page.sample_text()


def fixture_text(name: str) -> str:
    """One of our own raw pages."""
    return (FIXTURES / name).read_text(encoding="utf-8")


ARTICLE = {"lang": "en", "title": "Pipelines and Power", "body": "A body with a marker.[1]",
           "author": {"name": "A. Writer", "bio": "Writes about energy."},
           "references": [{"title": "A source", "url": "https://example.org/s", "accessed": "2023-01-02"}],
           "tags": ["energy"]}
