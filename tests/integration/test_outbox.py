"""The outbox keeps events while Redis is down and the sweep sends them once it is back."""
from __future__ import annotations

import json

import pytest
import redis
from sqlalchemy import select

from services.ingest.app import create_app
from services.ingest.db import outbox
from shared import launcher
from shared.config import load_settings
from shared.outbox import pending_count
from tests.helpers import free_port

pytestmark = pytest.mark.integration


def test_redis_down_at_commit_loses_nothing(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": url, "OUTBOX_SWEEP_SECONDS": "0"})
    app = create_app({"SETTINGS": settings})
    rt = app.extensions["pipeline"]
    client = app.test_client()
    headers = {"Authorization": "Bearer t"}

    resp = client.post("/api/articles", headers=headers, json={
        "lang": "en", "title": "Written While Redis Was Down", "body": "Body.", "author": {"name": "A"}})
    assert resp.status_code == 201, "the editor's request succeeds although the broker is down"
    assert pending_count(rt.engine, outbox) == 1

    proc = launcher.start_redis(url, tmp_path / "redis", log=lambda *_: None)
    try:
        assert rt.sweep_outbox() == 1
        assert pending_count(rt.engine, outbox) == 0
        assert rt.sweep_outbox() == 0, "a sent event is not sent again"
        queued = redis.Redis.from_url(url).lrange("translation_status", 0, -1)
        assert len(queued) == 1
        message = json.loads(queued[0])
        assert message["headers"]["task"] == "translation_status.record_article_status"
        with rt.engine.begin() as conn:
            event_id = conn.execute(select(outbox.c.event_id)).scalar_one()
        assert event_id in message["body"] or event_id in json.dumps(message)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
