"""Helpers for tests: free ports, waiting for a condition, a real loopback webhook receiver."""
from __future__ import annotations

import atexit
import json
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# One SQLite file per service migrated to head once per test process; tests copy it (fast).
_SCHEMA_TEMPLATES: dict[str, Path] = {}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Return the first truthy value of ``predicate()``, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message} (last value: {last!r})")


@dataclass
class Received:
    path: str
    headers: dict
    body: str
    at: float


@dataclass
class Receiver:
    """A real HTTP server on loopback that records every request and answers from a script."""

    server: ThreadingHTTPServer
    requests: list = field(default_factory=list)
    responses: list = field(default_factory=list)  # (status, headers[, delay s]) in order; then 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def for_path(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> Receiver:
    """Start a receiver on a free loopback port."""
    holder: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode("utf-8")
            receiver: Receiver = holder["receiver"]
            with receiver.lock:
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                status, headers, *delay = receiver.responses.pop(0) if receiver.responses else (200, {})
            if delay:
                time.sleep(delay[0])
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            payload = json.dumps({"ok": 200 <= status < 300}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    holder["receiver"] = receiver
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def migrated_db(service: str, url: str) -> str:
    """Bring ``service``'s database at ``url`` to its migration head (what ``make up`` does first); return ``url``.

    A new SQLite file is a copy of a template migrated once per test process; anything else
    (an existing file, PostgreSQL) is upgraded by the migration runner itself.
    """
    from sqlalchemy.engine import make_url

    from deploy import migrate

    database = make_url(url).database
    if not url.startswith("sqlite") or not database or database == ":memory:" or Path(database).exists():
        migrate.upgrade(service, url)
        return url
    template = _SCHEMA_TEMPLATES.get(service)
    if template is None:
        folder = Path(tempfile.mkdtemp(prefix="pipeline-schema-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / f"{service}.db"
        migrate.upgrade(service, f"sqlite:///{template}")
        _SCHEMA_TEMPLATES[service] = template
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, database)
    return url


def migrated(settings):
    """``settings`` after every service's database was brought to head."""
    from shared.config import SERVICES

    for service in SERVICES:
        migrated_db(service, settings.database_url(service))
    return settings


def unit_settings(tmp_path, redis_url, **extra):
    """Settings for an app or worker built in a unit test, with fixed secrets and migrated databases."""
    from shared.config import load_settings

    return migrated(load_settings(dict({"DATA_DIR": str(tmp_path), "REDIS_URL": redis_url, "API_TOKEN": "t",
                                        "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_x"}, **extra)))


def dead_redis_url() -> str:
    """A Redis URL where nothing answers."""
    return f"redis://127.0.0.1:{free_port()}/0"


def metric_families(text: str) -> dict:
    """Prometheus text parsed into families by name."""
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: f for f in text_string_to_metric_families(text)}


def metric_value(families, name, sample_name=None, **labels):
    """The value of the first sample of ``name`` with these labels."""
    for sample in families[name].samples:
        if (sample_name is None or sample.name == sample_name) and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise KeyError((name, sample_name, labels))


def quiet_redis(redis_url: str) -> str:
    """The same Redis on a database no worker reads: sessions and throttles work, sent tasks go nowhere."""
    return redis_url.rsplit("/", 1)[0] + "/14"
