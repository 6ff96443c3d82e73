"""rendering Celery worker: registers the rendering tasks; each parses its input and calls a plain function.

The batching (queueing changes, one flush per burst, failure isolation, the sweep) lives in
``batching.py``; rendering itself in ``site.py``.

Run with ``celery -A services.rendering.celeryapp worker -Q rendering``.
"""
from __future__ import annotations

import logging

from celery import Celery
from celery.signals import worker_ready

from shared import tasks
from shared.celery_app import task_options
from shared.factory import create_service_worker
from shared.runtime import Runtime

from . import batching, preview
from .db import metadata

log = logging.getLogger(__name__)


def register_tasks(celery: Celery, rt: Runtime) -> None:
    """Register the rendering tasks on ``celery`` (explicitly, no import-time magic)."""
    opts = {k: v for k, v in task_options().items() if k != "autoretry_for"}
    requests = batching.FlushRequests(celery, rt.settings.redis_url)

    @celery.task(name=tasks.RENDER_ARTICLE, bind=True, **opts)
    def render_article(self, event: dict) -> bool:
        """Queue a publish for the next flush (answers render_failed if it cannot even be queued)."""
        try:
            return batching.queue_render(rt, event, requests)
        except Exception as exc:
            if self.request.retries < self.max_retries:
                raise self.retry(exc=exc, countdown=min(60, 2 ** self.request.retries))
            batching.answer_queue_failure(rt, event, exc)
            return False

    @celery.task(name=tasks.REMOVE_ARTICLE, **task_options())
    def remove_article(event: dict) -> bool:
        """Queue an unpublish for the next flush."""
        return batching.queue_remove(rt, event, requests)

    @celery.task(name=tasks.FLUSH_RENDERS, **opts)
    def flush_renders() -> int:
        """Apply and render every queued change."""
        return batching.flush_requested(rt, requests)

    @celery.task(name=tasks.RENDER_PREVIEW, **task_options())
    def render_preview(snapshot: dict) -> int:
        """Render an editor's preview of a snapshot (nothing on the site changes); return its size."""
        with rt.engine.begin() as conn:
            page = preview.render_preview(conn, rt.settings, snapshot)
            preview.store_preview(conn, snapshot, page)
        return len(page)

    @celery.task(name=tasks.RENDERING_RELAY_OUTBOX, **task_options())
    def relay_outbox() -> int:
        """Relay the outbox; flush changes left waiting."""
        return batching.sweep(rt)

    def load_site_model(sender=None, **_kwargs) -> None:
        if getattr(sender, "app", None) is celery:
            batching.warm(rt)

    # The site model is loaded once, when this worker is ready, and kept between flushes.
    worker_ready.connect(load_site_model, weak=False)


def create_worker(settings=None) -> Celery:
    """The rendering worker's Celery app with its tasks registered."""
    return create_service_worker("rendering", metadata, register_tasks, settings)
