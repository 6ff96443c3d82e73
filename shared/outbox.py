"""Transactional outbox and inbox.

``emit`` writes an event row in the caller's transaction, so the state change and its event
commit together. ``relay`` sends committed rows to every subscriber task of the routing table and
marks them sent; the beat sweep calls it for rows left behind (for example when Redis was down
at commit). Web apps hand the ids of committed rows to ``BackgroundRelay``, a thread of their own,
so a request answers once its transaction commits, without waiting for the broker. ``claim`` records a processed event id in the consumer's inbox so a repeat is skipped.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from datetime import timedelta

from celery import Celery
from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, and_, func, select, update
from sqlalchemy.engine import Connection, Engine

from shared import tasks
from shared.db import JSONType
from shared.events import Event, utcnow
from shared.logs import bound_correlation_id, current_correlation_id

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    """The outbox table of one service's database."""
    return Table(
        "outbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(64), nullable=False),
        Column("envelope", JSONType, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        # Sent once more a while later: Redis' BRPOP can lose a message taken by a worker that died
        # before kombu recorded it as unacknowledged. Consumers' inboxes absorb the repeat.
        Column("resent_at", DateTime(timezone=True), nullable=True),
        Column("send_attempts", Integer, nullable=False, default=0),
        Index("ix_outbox_pending", "sent_at", "created_at"),
    )


def inbox_table(metadata: MetaData) -> Table:
    """The inbox table: (event id, consumer task) pairs already processed."""
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


def emit(conn: Connection, outbox: Table, event: Event) -> dict:
    """Add ``event`` to the outbox inside the caller's transaction, stamped with the current correlation id."""
    envelope = event.envelope(current_correlation_id())
    conn.execute(
        outbox.insert().values(
            event_id=envelope["id"],
            event_type=envelope["type"],
            envelope=envelope,
            created_at=utcnow(),
            send_attempts=0,
        )
    )
    # Remembered on the connection so the unit of work can relay exactly these after commit.
    conn.info.setdefault("outbox_emitted", []).append(envelope)
    return envelope


def claim(conn: Connection, inbox: Table, event_id: str, consumer: str) -> bool:
    """Record ``event_id`` as processed by ``consumer``; False when it already was."""
    seen = conn.execute(
        select(inbox.c.event_id).where(and_(inbox.c.event_id == event_id, inbox.c.consumer == consumer))
    ).first()
    if seen:
        return False
    conn.execute(inbox.insert().values(event_id=event_id, consumer=consumer, processed_at=utcnow()))
    return True


def send_envelope(celery: Celery, envelope: dict) -> None:
    """Send one envelope to every subscriber task of its event type."""
    subscribers = tasks.EVENT_SUBSCRIBERS.get(envelope["type"])
    if subscribers is None:
        raise LookupError(f"event type {envelope['type']!r} has no entry in EVENT_SUBSCRIBERS")
    # A short repr: Celery would otherwise walk the whole event (a snapshot holds the article) to
    # describe it in logs and task events.
    described = f"{{'event': '{envelope['type']} {envelope['id']}'}}"
    # The task's correlation header is the event's, also when a relay thread or the sweep sends it.
    with bound_correlation_id(envelope.get("correlation_id") or current_correlation_id()):
        for task_name in subscribers:
            celery.send_task(task_name, kwargs={"event": envelope}, queue=tasks.queue_for(task_name),
                             kwargsrepr=described)


def relay(
    engine: Engine,
    outbox: Table,
    celery: Celery,
    *,
    event_ids: list[str] | None = None,
    older_than: timedelta | None = None,
    limit: int = 500,
) -> int:
    """Send pending outbox rows (the given ids, or those older than ``older_than``); return how many were sent.

    A row whose send fails stays pending for the next sweep; the failure is logged, and the
    remaining rows are left for the sweep too, since the broker is most likely down.
    """
    query = select(outbox.c.event_id, outbox.c.envelope).where(outbox.c.sent_at.is_(None))
    if event_ids is not None:
        if not event_ids:
            return 0
        query = query.where(outbox.c.event_id.in_(event_ids))
    if older_than is not None:
        query = query.where(outbox.c.created_at <= utcnow() - older_than)
    query = query.order_by(outbox.c.created_at).limit(limit)
    with engine.begin() as conn:
        rows = conn.execute(query).all()
    return _send_rows(engine, outbox, celery, rows, "sent_at", "relay")


def redeliver(engine: Engine, outbox: Table, celery: Celery, *, older_than: timedelta, limit: int = 500) -> int:
    """Send once more every event sent longer than ``older_than`` ago and not resent yet; return how many."""
    with engine.begin() as conn:
        rows = conn.execute(select(outbox.c.event_id, outbox.c.envelope).where(and_(
            outbox.c.sent_at.is_not(None), outbox.c.resent_at.is_(None), outbox.c.sent_at <= utcnow() - older_than,
        )).order_by(outbox.c.sent_at).limit(limit)).all()
    return _send_rows(engine, outbox, celery, rows, "resent_at", "redelivery")


def _send_rows(engine: Engine, outbox: Table, celery: Celery, rows, mark: str, what: str) -> int:
    """Send ``rows`` in order, stopping at the first failure; stamp ``mark`` on those sent, in one write."""
    sent: list[str] = []
    failed = None
    for event_id, envelope in rows:
        try:
            send_envelope(celery, envelope)
        except Exception:
            # The broker is most likely down: leave this row and the rest to the next sweep.
            log.warning("outbox %s: sending %s failed; the sweep will send it again", what, event_id, exc_info=True)
            failed = event_id
            break
        sent.append(event_id)
    if sent or failed:
        with engine.begin() as conn:
            if sent:
                conn.execute(update(outbox).where(outbox.c.event_id.in_(sent))
                             .values({mark: utcnow(), "send_attempts": outbox.c.send_attempts + 1}))
            if failed:
                conn.execute(update(outbox).where(outbox.c.event_id == failed)
                             .values(send_attempts=outbox.c.send_attempts + 1))
    return len(sent)


def pending_count(engine: Engine, outbox: Table) -> int:
    """How many outbox rows are not sent yet (the backlog)."""
    with engine.begin() as conn:
        return conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar_one()


class BackgroundRelay:
    """Relays committed outbox rows from a thread of this process, off the request's critical path.

    Only ids of committed rows are handed over, so an id lost with the process (killed before the
    thread sent it) is still pending in the outbox and the sweep sends it, as after a failed send.
    The thread is started in the process that first submits (a forked web worker gets its own).
    """

    def __init__(self, engine: Engine, outbox: Table, celery: Celery, *, batch: int = 500):
        self.engine, self.outbox, self.celery, self.batch = engine, outbox, celery, batch
        self._ids: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._unfinished = 0
        self._idle = threading.Condition()
        self._pid: int | None = None
        atexit.register(self.drain, 5.0)

    def submit(self, event_ids: list[str]) -> None:
        """Queue ids of committed outbox rows for sending."""
        if not event_ids:
            return
        with self._idle:
            if self._pid != os.getpid():
                # A fork copies the queue but not the thread: start this process's own.
                self._pid, self._ids, self._unfinished = os.getpid(), queue.SimpleQueue(), 0
                threading.Thread(target=self._run, name="outbox-relay", daemon=True).start()
            self._unfinished += len(event_ids)
        for event_id in event_ids:
            self._ids.put(event_id)

    def drain(self, timeout: float) -> bool:
        """Wait until every submitted id was relayed (or failed and left to the sweep); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def _run(self) -> None:
        ids = self._ids
        while True:
            taken = [ids.get()]
            while len(taken) < self.batch:
                try:
                    taken.append(ids.get_nowait())
                except queue.Empty:
                    break
            try:
                relay(self.engine, self.outbox, self.celery, event_ids=taken, limit=len(taken))
            except Exception:
                # Most likely the database is unavailable; the rows stay pending and the sweep sends them.
                log.warning("outbox relay: %d events left for the sweep", len(taken), exc_info=True)
            with self._idle:
                self._unfinished -= len(taken)
                self._idle.notify_all()
