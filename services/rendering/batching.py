"""Batched rendering: render requests are queued, and one flush applies and renders them all.

``rendering.render_article`` and ``rendering.remove_article`` only queue their change (a
``pending_renders`` row, in the transaction of the inbox claim) and request a flush: the first
request of a burst sets a flag on Redis and sends one ``rendering.flush_renders``; the others see
the flag. A flush applies every queued change in order and renders the site once for all of them
(``site.flush``, on the model the process keeps between flushes), so a burst rewrites the index,
feed, sitemap and tag pages once, not per article. A batch that fails is retried change by change
up to the failing one, which counts an attempt and is given up after ``MAX_ATTEMPTS``. The beat
sweep also flushes changes left waiting, in case a flush message or the flag was lost.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

import redis
from celery import Celery
from sqlalchemy import delete, select, update

from shared import events as ev
from shared import tasks
from shared.events import utcnow
from shared.logs import bound_correlation_id, current_correlation_id
from shared.outbox import emit
from shared.runtime import Runtime

from . import site
from .db import applied_seq, outbox, pending_renders, render_log

log = logging.getLogger(__name__)

# Set while a flush task is queued: the first request of a burst sends one, the others see the flag.
# The flush deletes it before reading the queue, so a request arriving later sends a new flush. The
# expiry and the sweep cover a flag whose flush message was lost.
FLUSH_FLAG = "rendering:flush-requested"
FLUSH_FLAG_TTL_SECONDS = 60
BATCH_LIMIT = 500
# A change that fails this many flushes on its own is given up (a publish answers render_failed);
# failed attempts are retried by the sweep, every OUTBOX_SWEEP_SECONDS.
MAX_ATTEMPTS = 5


def _log(conn, article_id: str, revision, action: str, written: int, started: float) -> None:
    conn.execute(render_log.insert().values(article_id=article_id, revision=revision, action=action,
                                            files_written=written, at=utcnow(),
                                            duration_ms=int((time.perf_counter() - started) * 1000)))


def newer_than_applied(conn, article_id: str, seq: int) -> bool:
    """Record ``seq`` as the article's newest applied event unless a newer one was applied; False then.

    A compare-and-set: concurrent handlers of one article cannot both pass with stale numbers.
    Events from before sequences existed (seq 0) always pass, as they did before.
    """
    if not seq:
        return True
    moved = conn.execute(update(applied_seq).where(applied_seq.c.article_id == article_id, applied_seq.c.seq < seq)
                         .values(seq=seq)).rowcount
    if moved:
        return True
    if conn.execute(select(applied_seq.c.seq).where(applied_seq.c.article_id == article_id)).first() is not None:
        return False
    conn.execute(applied_seq.insert().values(article_id=article_id, seq=seq))
    return True


def queue_change(conn, event: ev.ArticleChanged, action: str) -> None:
    """Queue a publish (with the event's snapshot) or a remove for the next flush; an out-of-date event is dropped."""
    if not newer_than_applied(conn, event.article_id, event.seq):
        log.info("%s of %s (seq %s) is older than what was applied; dropped", action, event.article_id, event.seq)
        return
    conn.execute(pending_renders.insert().values(
        article_id=event.article_id, action=action,
        snapshot=event.snapshot if action == "publish" else None,
        revision=event.revision, correlation_id=current_correlation_id(),
        attempts=0, queued_at=utcnow(),
    ))


def _change(row) -> dict:
    if row.action == "publish":
        return {"action": "publish", "snapshot": row.snapshot}
    return {"action": "remove", "article_id": row.article_id}


def flush_batch(rt: Runtime, limit: int = BATCH_LIMIT) -> int:
    """Apply and render up to ``limit`` queued changes in one transaction; return how many."""
    started = time.perf_counter()
    with rt.transaction() as conn:
        # Read the queue under the render lock, so two flushes never take the same rows.
        site.lock(conn)
        rows = conn.execute(select(pending_renders).order_by(pending_renders.c.seq).limit(limit)).all()
        if not rows:
            return 0
        report = site.flush(conn, rt.settings, [_change(r) for r in rows])
        written = len(report.written) + len(report.removed)
        for r in rows:
            _log(conn, r.article_id, r.revision, "rendered" if r.action == "publish" else "removed", written, started)
            if r.action == "publish":
                with bound_correlation_id(r.correlation_id):
                    emit(conn, outbox, ev.ArticleRendered(article_id=r.article_id, revision=r.revision,
                                                          url=site.page_url(rt.settings, r.snapshot),
                                                          files_written=written))
        conn.execute(delete(pending_renders).where(pending_renders.c.seq.in_([r.seq for r in rows])))
    return len(rows)


def _record_failure(rt: Runtime, exc: Exception) -> bool:
    """Count a failed attempt of the oldest queued change; give it up after MAX_ATTEMPTS. True if given up."""
    with rt.transaction() as conn:
        site.lock(conn)
        head = conn.execute(select(pending_renders).order_by(pending_renders.c.seq).limit(1)).first()
        if head is None:
            return True
        if head.attempts + 1 < MAX_ATTEMPTS:
            conn.execute(update(pending_renders).where(pending_renders.c.seq == head.seq)
                         .values(attempts=head.attempts + 1))
            return False
        log.error("giving up the %s of %s (revision %s) after %d attempts", head.action, head.article_id,
                  head.revision, MAX_ATTEMPTS)
        if head.action == "publish":
            with bound_correlation_id(head.correlation_id):
                emit(conn, outbox, ev.ArticleRenderFailed(article_id=head.article_id, revision=head.revision,
                                                          error=f"{type(exc).__name__}: {exc}"))
        conn.execute(delete(pending_renders).where(pending_renders.c.seq == head.seq))
        return True


def flush_pending(rt: Runtime) -> int:
    """Render every queued change, in batches; isolate a failing change. Return how many were applied."""
    done = 0
    while True:
        try:
            n = flush_batch(rt)
        except Exception:
            log.exception("batch render failed; applying the queued changes one at a time up to the failing one")
            n = _flush_until_failure(rt)
            if n is None:
                return done
            done += n
            continue  # the failing change is gone: batch the rest again
        if n == 0:
            return done
        done += n


def _flush_until_failure(rt: Runtime) -> int | None:
    """Apply queued changes singly up to the first failing one; None when that one stays queued for a retry."""
    done = 0
    while True:
        try:
            n = flush_batch(rt, limit=1)
        except Exception as exc:
            log.exception("render of the oldest queued change failed")
            return done if _record_failure(rt, exc) else None
        if n == 0:
            return done
        done += n


def has_stale_changes(rt: Runtime, older_than: timedelta) -> bool:
    """Whether a queued change has waited longer than ``older_than``."""
    with rt.engine.begin() as conn:
        return conn.execute(select(pending_renders.c.seq)
                            .where(pending_renders.c.queued_at <= utcnow() - older_than).limit(1)).first() is not None


class FlushRequests:
    """The flush flag: asks for one flush task per burst of queued changes."""

    def __init__(self, celery: Celery, redis_url: str):
        self.celery = celery
        self.flags = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=10)

    def request(self) -> None:
        """Send a flush task unless one is already waiting."""
        if self.flags.set(FLUSH_FLAG, 1, nx=True, ex=FLUSH_FLAG_TTL_SECONDS):
            try:
                self.celery.send_task(tasks.FLUSH_RENDERS, queue=tasks.queue_for(tasks.FLUSH_RENDERS))
            except Exception:
                # Without its flush the flag would hold back every request for a minute.
                self.flags.delete(FLUSH_FLAG)
                raise

    def clear(self) -> None:
        """The waiting flush has started: a request arriving from now on sends a new one."""
        self.flags.delete(FLUSH_FLAG)


def queue_render(rt: Runtime, event: dict, requests: FlushRequests) -> bool:
    """Queue a publish for the next flush and request one; False when the event was a repeat."""
    fresh = rt.consume(event, tasks.RENDER_ARTICLE, lambda conn, e: queue_change(conn, e, "publish"))
    # Also on a repeat: the first delivery may have failed between its commit and this request.
    requests.request()
    return fresh


def queue_remove(rt: Runtime, event: dict, requests: FlushRequests) -> bool:
    """Queue a removal for the next flush and request one; False when the event was a repeat."""
    fresh = rt.consume(event, tasks.REMOVE_ARTICLE, lambda conn, e: queue_change(conn, e, "remove"))
    requests.request()
    return fresh


def answer_queue_failure(rt: Runtime, event: dict, exc: Exception) -> None:
    """Answer ``article.render_failed`` for a publish that could not even be queued."""
    log.error("queueing the render of %s failed for good", event["data"].get("article_id"), exc_info=exc)
    data, error = event["data"], f"{type(exc).__name__}: {exc}"
    rt.consume(event, tasks.RENDER_ARTICLE, lambda conn, e: emit(conn, outbox, ev.ArticleRenderFailed(
        article_id=data["article_id"], revision=data["revision"], error=error)))


def flush_requested(rt: Runtime, requests: FlushRequests) -> int:
    """Run the requested flush: clear the flag, then render everything queued."""
    requests.clear()
    return flush_pending(rt)


def warm(rt: Runtime) -> None:
    """Load the site model before the first flush needs it."""
    with rt.transaction() as conn:
        site.lock(conn)
        site.live_model(conn, rt.settings)


def sweep(rt: Runtime) -> int:
    """Relay the outbox and flush changes left waiting longer than one sweep period; return events sent."""
    sent = rt.sweep_outbox()
    if has_stale_changes(rt, timedelta(seconds=rt.settings.outbox_sweep_seconds)):
        flush_pending(rt)
    return sent
