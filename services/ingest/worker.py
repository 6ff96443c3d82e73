"""ingest Celery worker: records render results, publishes due schedules, runs WordPress import jobs, relays its outbox.

Run with ``celery -A services.ingest.celeryapp worker -Q ingest``.
"""
from __future__ import annotations

from celery import Celery

from shared import tasks
from shared.celery_app import task_options
from shared.factory import create_service_worker
from shared.runtime import Runtime

from . import handlers, wxr_jobs
from .db import metadata
from .schedule import publish_due


def register_tasks(celery: Celery, rt: Runtime) -> None:
    """Register the ingest tasks on ``celery`` (explicitly, no import-time magic)."""

    @celery.task(name=tasks.RECORD_RENDER_RESULT, **task_options())
    def record_render_result(event: dict) -> bool:
        return rt.consume(event, tasks.RECORD_RENDER_RESULT, lambda conn, e: handlers.record_render_result(
            conn, e, site_url=rt.settings.site_url))

    @celery.task(name=tasks.STORE_DELIVERED_TRANSLATION, **task_options())
    def store_delivered_translation(event: dict) -> bool:
        return rt.consume(event, tasks.STORE_DELIVERED_TRANSLATION, lambda conn, e: handlers.store_delivered_translation(
            conn, e, site_url=rt.settings.site_url))

    @celery.task(name=tasks.RECORD_TRANSLATION_ASSIGNMENT, **task_options())
    def record_translation_assignment(event: dict) -> bool:
        return rt.consume(event, tasks.RECORD_TRANSLATION_ASSIGNMENT, handlers.record_translation_assignment)

    @celery.task(name=tasks.PUBLISH_DUE_ARTICLES, **task_options())
    def publish_due_articles() -> int:
        return publish_due(rt)

    @celery.task(name=tasks.IMPORT_WXR_FILE, **task_options())
    def import_wxr_file(job_id: str) -> dict:
        return wxr_jobs.run_job(rt, job_id)

    @celery.task(name=tasks.INGEST_RELAY_OUTBOX, **task_options())
    def relay_outbox() -> int:
        return rt.sweep_outbox()


def create_worker(settings=None) -> Celery:
    """The ingest worker's Celery app with its tasks registered."""
    return create_service_worker("ingest", metadata, register_tasks, settings)

