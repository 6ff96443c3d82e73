"""translation_status Celery worker: keeps statuses in step with article events, relays its outbox.

Run with ``celery -A services.translation_status.celeryapp worker -Q translation_status``.
"""
from __future__ import annotations

from celery import Celery

from shared import tasks
from shared.celery_app import task_options
from shared.factory import create_service_worker
from shared.runtime import Runtime

from . import status as svc
from .db import metadata


def register_tasks(celery: Celery, rt: Runtime) -> None:
    """Register the translation_status tasks on ``celery`` (explicitly, no import-time magic)."""

    @celery.task(name=tasks.RECORD_ARTICLE_STATUS, **task_options())
    def record_article_status(event: dict) -> bool:
        return rt.consume(event, tasks.RECORD_ARTICLE_STATUS, lambda conn, e: svc.record_article_event(
            conn, e, event["occurred_at"]))

    @celery.task(name=tasks.TRANSLATION_STATUS_RELAY_OUTBOX, **task_options())
    def relay_outbox() -> int:
        return rt.sweep_outbox()


def create_worker(settings=None) -> Celery:
    """The translation_status worker's Celery app with its tasks registered."""
    return create_service_worker("translation_status", metadata, register_tasks, settings)
