"""What a running service process holds: its settings, database engine, Celery app and outbox."""
from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterator

from celery import Celery
import requests
from flask import Flask, current_app, g, request
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection, Engine

from shared.celery_app import make_celery
from shared.config import Settings
from shared.db import check_db, init_db, make_engine
from shared.events import Event, parse
from shared.observability import init_flask_observability
from shared.outbox import claim, pending_count, redeliver, relay
from shared.web import ApiError, health_blueprint, ping_redis, register_errors

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """One service's process-wide handles."""

    service: str
    settings: Settings
    engine: Engine
    celery: Celery
    outbox: Table
    inbox: Table

    def relay(self, envelopes: list[dict]) -> int:
        """Send just-committed events now; failures stay in the outbox for the sweep."""
        return relay(self.engine, self.outbox, self.celery, event_ids=[e["id"] for e in envelopes])

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A unit of work: commit state and outbox rows together, then relay the new events."""
        with self.engine.begin() as conn:
            conn.info.pop("outbox_emitted", None)
            yield conn
            envelopes = conn.info.pop("outbox_emitted", [])
        if envelopes:
            self.relay(envelopes)

    def consume(self, envelope: dict, consumer: str, handler: Callable[[Connection, Event], object]) -> bool:
        """Run ``handler`` once per event id for ``consumer``; False when it was a repeat."""
        event = parse(envelope)
        with self.transaction() as conn:
            if not claim(conn, self.inbox, envelope["id"], consumer):
                log.info("%s: event %s already processed; skipped", consumer, envelope["id"])
                return False
            conn.info["correlation_id"] = envelope.get("correlation_id")
            handler(conn, event)
        return True

    def sweep_outbox(self) -> int:
        """Resend rows left pending for longer than a sweep period, and send old ones a second time."""
        sent = relay(self.engine, self.outbox, self.celery,
                     older_than=timedelta(seconds=self.settings.outbox_sweep_seconds))
        return sent + redeliver(self.engine, self.outbox, self.celery,
                                older_than=timedelta(seconds=self.settings.outbox_redelivery_seconds))


def build_runtime(service: str, settings: Settings, metadata: MetaData) -> Runtime:
    """Create the engine (and tables) and the Celery app of ``service``."""
    engine = make_engine(settings.database_url(service))
    init_db(engine, metadata)
    engine.dispose()  # no connection outlives set-up, so forking servers start clean
    tables = metadata.tables
    return Runtime(service, settings, engine, make_celery(service, settings), tables["outbox"], tables["inbox"])


def init_flask(app: Flask, runtime: Runtime) -> None:
    """Wire the runtime, limits, JSON errors, correlation ids, /healthz, /readyz and /metrics into a service's app."""
    settings = runtime.settings
    # Flask pre-sets some keys to None, so "setdefault" would not apply ours.
    for key, value in (("SECRET_KEY", settings.secret_key), ("API_TOKEN", settings.api_token),
                       ("MAX_CONTENT_LENGTH", settings.max_body_bytes)):
        if app.config.get(key) is None:
            app.config[key] = value
    app.extensions["pipeline"] = runtime
    register_errors(app)
    app.register_blueprint(health_blueprint(runtime.service, {
        "redis": lambda: ping_redis(settings.redis_url),
        "db": lambda: check_db(runtime.engine),
    }))

    @app.before_request
    def _correlation_id():
        incoming = request.headers.get("X-Correlation-ID", "")
        g.correlation_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else str(uuid.uuid4())

    @app.after_request
    def _echo_correlation_id(response):
        response.headers["X-Correlation-ID"] = g.get("correlation_id", "")
        return response

    # After the correlation-id hook above, so the log context sees the id it chose.
    init_flask_observability(app, runtime.service, settings.redis_url, lambda: check_db(runtime.engine),
                             lambda: pending_count(runtime.engine, runtime.outbox))


def runtime() -> Runtime:
    """The current app's runtime."""
    return current_app.extensions["pipeline"]


def read_service(service: str, path: str, timeout: float = 10) -> dict:
    """GET another service's JSON API (with the API token and this request's correlation id).

    Services never import each other; they may read a fact they do not own this way. Raises
    ApiError 503 when the service does not answer and 502 when it answers anything but 200.
    """
    rt = runtime()
    try:
        resp = requests.get(f"{rt.settings.service_urls[service]}{path}", timeout=timeout, headers={
            "Authorization": f"Bearer {rt.settings.api_token}", "X-Correlation-ID": g.get("correlation_id", "")})
    except requests.RequestException as exc:
        raise ApiError(503, f"{service} did not answer ({exc}); try again shortly")
    if resp.status_code != 200:
        raise ApiError(502, f"{service} answered {resp.status_code} for {path}")
    return resp.json()
