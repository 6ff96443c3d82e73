"""The Celery app factory every service uses: JSON only, late acks, one visibility timeout."""
from __future__ import annotations

from datetime import timedelta

from celery import Celery

from shared import tasks
from shared.config import Settings


def make_celery(service: str, settings: Settings) -> Celery:
    """A Celery app for ``service`` whose default queue is the service's own queue."""
    if service not in tasks.QUEUES:
        raise ValueError(f"unknown service {service!r}; expected one of {tasks.QUEUES}")
    transport = {
        "visibility_timeout": settings.visibility_timeout,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        "retry_on_timeout": True,
        # A dead worker's unacknowledged messages come back one visibility timeout later, not up to
        # 100 s after that (kombu scans for them only every 10th interval by default).
        "unacked_restore_throttle": 1,
    }
    app = Celery(f"pipeline.{service}", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a long Redis outage must not make workers give up
        # Publishing must fail fast when Redis is down: the outbox keeps the event and a sweep resends it.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        task_routes=tasks.celery_routes(),
        task_default_queue=service,
        task_create_missing_queues=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        timezone="UTC",
        enable_utc=True,
    )
    return app


def beat_schedule(settings: Settings) -> dict:
    """The periodic sweeps: every outbox relay, webhook retries and due schedules."""
    every = timedelta(seconds=settings.outbox_sweep_seconds)
    schedule = {
        f"relay-outbox-{svc}": {"task": name, "schedule": every, "options": {"queue": svc, "expires": 30}}
        for svc, name in tasks.RELAY_TASKS.items()
    }
    schedule["sweep-deliveries"] = {
        "task": tasks.SWEEP_DELIVERIES,
        "schedule": timedelta(seconds=2),
        "options": {"queue": tasks.NOTIFICATION, "expires": 30},
    }
    schedule["publish-due-articles"] = {
        "task": tasks.PUBLISH_DUE_ARTICLES,
        "schedule": timedelta(seconds=15),
        "options": {"queue": tasks.INGEST, "expires": 60},
    }
    return schedule


def task_options() -> dict:
    """Options every consumer task shares: retries with capped exponential backoff."""
    return {
        "autoretry_for": (Exception,),
        "retry_backoff": 1,
        "retry_backoff_max": 60,
        "retry_jitter": True,
        "max_retries": 12,
        "acks_late": True,
        # Celery's default (shared=True) would register every task in every app of the process.
        "shared": False,
    }
