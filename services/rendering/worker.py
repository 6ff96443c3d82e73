"""rendering Celery worker: renders and removes pages, relays its outbox.

Run with ``celery -A services.rendering.celeryapp worker -Q rendering``.
"""
from __future__ import annotations

import logging
import time

from celery import Celery

from shared import events as ev
from shared import tasks
from shared.celery_app import task_options
from shared.config import load_settings
from shared.observability import instrument_worker
from shared.events import utcnow
from shared.outbox import emit
from shared.runtime import Runtime, build_runtime

from . import site
from .db import metadata, outbox, render_log

log = logging.getLogger(__name__)


def _log(conn, article_id: str, revision, action: str, written: int, started: float) -> None:
    conn.execute(render_log.insert().values(article_id=article_id, revision=revision, action=action,
                                            files_written=written, at=utcnow(),
                                            duration_ms=int((time.perf_counter() - started) * 1000)))


def render_published(rt: Runtime, conn, event: ev.ArticlePublishRequested) -> None:
    """Render the snapshot, then tell ingest the page is live."""
    started = time.perf_counter()
    url, written = site.publish_snapshot(conn, event.snapshot, rt.settings)
    _log(conn, event.article_id, event.revision, "rendered", written, started)
    emit(conn, outbox, ev.ArticleRendered(article_id=event.article_id, revision=event.revision, url=url,
                                          files_written=written), conn.info.get("correlation_id"))


def remove_published(rt: Runtime, conn, event: ev.ArticleUnpublished) -> None:
    """Take the page off the site and re-render what linked to it."""
    started = time.perf_counter()
    written = site.remove_article(conn, event.article_id, rt.settings)
    _log(conn, event.article_id, event.revision, "removed", written, started)


def register_tasks(celery: Celery, rt: Runtime) -> None:
    """Register the rendering tasks on ``celery`` (explicitly, no import-time magic)."""
    opts = {k: v for k, v in task_options().items() if k != "autoretry_for"}

    @celery.task(name=tasks.RENDER_ARTICLE, bind=True, **opts)
    def render_article(self, event: dict) -> bool:
        try:
            return rt.consume(event, tasks.RENDER_ARTICLE, lambda conn, e: render_published(rt, conn, e))
        except Exception as exc:
            if self.request.retries < self.max_retries:
                raise self.retry(exc=exc, countdown=min(60, 2 ** self.request.retries))
            log.exception("render of %s failed for good", event["data"].get("article_id"))
            data = event["data"]
            rt.consume(event, tasks.RENDER_ARTICLE, lambda conn, e: emit(conn, outbox, ev.ArticleRenderFailed(
                article_id=data["article_id"], revision=data["revision"], error=f"{type(exc).__name__}: {exc}",
            ), event.get("correlation_id")))
            return False

    @celery.task(name=tasks.REMOVE_ARTICLE, **task_options())
    def remove_article(event: dict) -> bool:
        return rt.consume(event, tasks.REMOVE_ARTICLE, lambda conn, e: remove_published(rt, conn, e))

    @celery.task(name=tasks.RENDERING_RELAY_OUTBOX, **task_options())
    def relay_outbox() -> int:
        return rt.sweep_outbox()


def create_worker(settings=None) -> Celery:
    """The rendering worker's Celery app with its tasks registered."""
    rt = build_runtime("rendering", settings or load_settings(), metadata)
    register_tasks(rt.celery, rt)
    instrument_worker(rt.celery, "rendering")
    return rt.celery

