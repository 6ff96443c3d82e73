"""What a running service process holds: its settings, database engine, Celery app and outbox."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterator

from celery import Celery
import requests
from flask import current_app
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection, Engine

from shared.celery_app import make_celery
from shared.config import Settings, private_dir
from shared.db import make_engine
from shared.errors import ApiError
from shared.events import Event, parse
from shared.logs import bound_correlation_id, correlation_headers, current_correlation_id
from shared.outbox import BackgroundRelay, claim, redeliver, relay

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """One service's process-wide handles."""

    service: str
    settings: Settings
    engine: Engine
    celery: Celery
    outbox: Table | None  # None for a service that emits no events
    inbox: Table
    # Set in web apps (OUTBOX_RELAY=background): events are sent by a thread after the commit.
    background: BackgroundRelay | None = None

    def relay(self, envelopes: list[dict]) -> int:
        """Send just-committed events (now, or through the background relay); failures stay for the sweep."""
        ids = [e["id"] for e in envelopes]
        if self.background is not None:
            self.background.submit(ids)
            return len(ids)
        return relay(self.engine, self.outbox, self.celery, event_ids=ids)

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
        # Events the handler emits carry the correlation id of the event that caused them.
        with bound_correlation_id(envelope.get("correlation_id") or current_correlation_id()):
            with self.transaction() as conn:
                if not claim(conn, self.inbox, envelope["id"], consumer):
                    log.info("%s: event %s already processed; skipped", consumer, envelope["id"])
                    return False
                handler(conn, event)
        return True

    def sweep_outbox(self) -> int:
        """Resend rows left pending for longer than a sweep period, and send old ones a second time."""
        sent = relay(self.engine, self.outbox, self.celery,
                     older_than=timedelta(seconds=self.settings.outbox_sweep_seconds))
        return sent + redeliver(self.engine, self.outbox, self.celery,
                                older_than=timedelta(seconds=self.settings.outbox_redelivery_seconds))


def build_runtime(service: str, settings: Settings, metadata: MetaData) -> Runtime:
    """Create the engine and the Celery app of ``service``; the schema is migrations' (deploy/migrate.py)."""
    private_dir(settings.data_dir)
    engine = make_engine(settings.database_url(service))
    tables = metadata.tables
    return Runtime(service, settings, engine, make_celery(service, settings), tables.get("outbox"), tables["inbox"])


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
            "Authorization": f"Bearer {rt.settings.api_token}", **correlation_headers()})
    except requests.RequestException as exc:
        raise ApiError(503, f"{service} did not answer ({exc}); try again shortly")
    if resp.status_code != 200:
        raise ApiError(502, f"{service} answered {resp.status_code} for {path}")
    return resp.json()
