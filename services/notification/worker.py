"""notification Celery worker: plans and sends webhook deliveries and emails (password reset links too), sweeps due retries.

Run with ``celery -A services.notification.celeryapp worker -Q notification``.
"""
from __future__ import annotations

from celery import Celery

from shared import tasks
from shared.auth import password_reset_token
from shared.celery_app import task_options
from shared.factory import create_service_worker
from shared.metrics import count_delivery_outcome
from shared.runtime import Runtime

from . import delivery as svc
from . import mail
from .db import metadata


def register_tasks(celery: Celery, rt: Runtime) -> None:
    """Register the notification tasks on ``celery`` (explicitly, no import-time magic)."""
    settings = rt.settings

    links = {
        "article_submitted": f"{settings.service_urls['ingest']}/articles?state=in_review",
        "translation_assigned": f"{settings.service_urls['translation_status']}/",
        "translation_delivered": f"{settings.service_urls['ingest']}/articles?state=in_review",
        "schedule_missed": f"{settings.service_urls['ingest']}/articles?state=published",
    }

    @celery.task(name=tasks.NOTIFY_SUBSCRIBERS, **task_options())
    def notify_subscribers(event: dict) -> int:
        created: list[str] = []
        emails: list[int] = []

        def handle(conn, _event):
            created.extend(svc.plan_deliveries(conn, event))
            emails.extend(mail.queue_event_emails(conn, event, links))

        rt.consume(event, tasks.NOTIFY_SUBSCRIBERS, handle)
        for email_id in emails:
            rt.celery.send_task(tasks.SEND_EMAIL, args=[email_id], queue=tasks.queue_for(tasks.SEND_EMAIL))
        return svc.dispatch(rt.engine, rt.celery, created)

    @celery.task(name=tasks.DELIVER_WEBHOOK, **task_options())
    def deliver_webhook(delivery_id: str) -> str:
        outcome = svc.send_delivery(rt.engine, delivery_id, allowlist=settings.webhook_allowlist,
                                    timeout=settings.webhook_timeout, scale=settings.webhook_retry_scale)
        count_delivery_outcome(outcome)
        return outcome

    @celery.task(name=tasks.SWEEP_DELIVERIES, **task_options())
    def sweep_deliveries() -> int:
        due = svc.due_deliveries(rt.engine, redispatch_after=settings.webhook_timeout + 10)
        sent = svc.dispatch(rt.engine, rt.celery, due)
        for email_id in mail.pending_emails(rt.engine):
            rt.celery.send_task(tasks.SEND_EMAIL, args=[email_id], queue=tasks.queue_for(tasks.SEND_EMAIL))
        return sent

    def reset_link(reset_id: str) -> str:
        token = password_reset_token(settings.secret_key, reset_id)
        return f"{settings.service_urls['ingest']}/password-reset/{token}"

    @celery.task(name=tasks.SEND_EMAIL, **task_options())
    def send_email(email_id: int) -> str:
        return mail.send_email(rt.engine, email_id, settings.smtp_url, site=settings.site, reset_link=reset_link)

    @celery.task(name=tasks.SEND_PASSWORD_RESET, **task_options())
    def send_password_reset(event: dict) -> int | None:
        queued: list[int] = []

        def handle(conn, _event):
            email_id = mail.queue_password_reset(conn, event, settings.site, settings.password_reset_minutes)
            if email_id:
                queued.append(email_id)

        rt.consume(event, tasks.SEND_PASSWORD_RESET, handle)
        for email_id in queued:
            rt.celery.send_task(tasks.SEND_EMAIL, args=[email_id], queue=tasks.queue_for(tasks.SEND_EMAIL))
        return queued[0] if queued else None


def create_worker(settings=None) -> Celery:
    """The notification worker's Celery app with its tasks registered."""
    return create_service_worker("notification", metadata, register_tasks, settings)
