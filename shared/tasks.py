"""Task names, their queues, and the event -> subscriber-tasks table (the one routing table).

Services never import each other: they send tasks by these names, and each worker consumes
only its own queue. ``tests/unit/shared/test_tasks.py`` checks every name is registered by its
service's worker and routed to that service's queue.
"""
from __future__ import annotations

from shared import events as ev

INGEST, TRANSLATION_STATUS, RENDERING, NOTIFICATION = "ingest", "translation_status", "rendering", "notification"
QUEUES = (INGEST, TRANSLATION_STATUS, RENDERING, NOTIFICATION)

# ingest
RECORD_RENDER_RESULT = "ingest.record_render_result"
STORE_DELIVERED_TRANSLATION = "ingest.store_delivered_translation"
RECORD_TRANSLATION_ASSIGNMENT = "ingest.record_translation_assignment"
PUBLISH_DUE_ARTICLES = "ingest.publish_due_articles"
INGEST_RELAY_OUTBOX = "ingest.relay_outbox"
IMPORT_WXR_FILE = "ingest.import_wxr_file"
# translation_status
RECORD_ARTICLE_STATUS = "translation_status.record_article_status"
TRANSLATION_STATUS_RELAY_OUTBOX = "translation_status.relay_outbox"
# rendering
RENDER_ARTICLE = "rendering.render_article"
REMOVE_ARTICLE = "rendering.remove_article"
FLUSH_RENDERS = "rendering.flush_renders"
RENDERING_RELAY_OUTBOX = "rendering.relay_outbox"
RENDER_PREVIEW = "rendering.render_preview"
# notification
NOTIFY_SUBSCRIBERS = "notification.notify_subscribers"
DELIVER_WEBHOOK = "notification.deliver_webhook"
SWEEP_DELIVERIES = "notification.sweep_deliveries"
SEND_EMAIL = "notification.send_email"
SEND_PASSWORD_RESET = "notification.send_password_reset"

TASK_QUEUES: dict[str, str] = {
    RECORD_RENDER_RESULT: INGEST,
    STORE_DELIVERED_TRANSLATION: INGEST,
    RECORD_TRANSLATION_ASSIGNMENT: INGEST,
    PUBLISH_DUE_ARTICLES: INGEST,
    INGEST_RELAY_OUTBOX: INGEST,
    IMPORT_WXR_FILE: INGEST,
    RECORD_ARTICLE_STATUS: TRANSLATION_STATUS,
    TRANSLATION_STATUS_RELAY_OUTBOX: TRANSLATION_STATUS,
    RENDER_ARTICLE: RENDERING,
    REMOVE_ARTICLE: RENDERING,
    FLUSH_RENDERS: RENDERING,
    RENDERING_RELAY_OUTBOX: RENDERING,
    RENDER_PREVIEW: RENDERING,
    NOTIFY_SUBSCRIBERS: NOTIFICATION,
    DELIVER_WEBHOOK: NOTIFICATION,
    SWEEP_DELIVERIES: NOTIFICATION,
    SEND_EMAIL: NOTIFICATION,
    SEND_PASSWORD_RESET: NOTIFICATION,
}

RELAY_TASKS: dict[str, str] = {
    INGEST: INGEST_RELAY_OUTBOX,
    TRANSLATION_STATUS: TRANSLATION_STATUS_RELAY_OUTBOX,
    RENDERING: RENDERING_RELAY_OUTBOX,
}  # notification emits no events, so it has no outbox to relay

_ARTICLE_STATE_EVENTS = (
    ev.ARTICLE_CREATED, ev.ARTICLE_UPDATED, ev.ARTICLE_SUBMITTED, ev.ARTICLE_CHANGES_REQUESTED,
    ev.ARTICLE_APPROVED, ev.ARTICLE_SCHEDULED, ev.ARTICLE_UNSCHEDULED, ev.ARTICLE_PUBLISH_REQUESTED,
    ev.ARTICLE_PUBLISHED, ev.ARTICLE_PUBLISH_FAILED, ev.ARTICLE_UNPUBLISHED, ev.ARTICLE_ARCHIVED,
    ev.ARTICLE_RESTORED,
)

# event type -> the tasks that consume it, in any order. Every event type has an entry.
EVENT_SUBSCRIBERS: dict[str, tuple[str, ...]] = {t: (RECORD_ARTICLE_STATUS,) for t in _ARTICLE_STATE_EVENTS}
EVENT_SUBSCRIBERS.update({
    ev.ARTICLE_PUBLISH_REQUESTED: (RENDER_ARTICLE, RECORD_ARTICLE_STATUS),
    ev.ARTICLE_RENDERED: (RECORD_RENDER_RESULT,),
    ev.ARTICLE_RENDER_FAILED: (RECORD_RENDER_RESULT,),
    ev.ARTICLE_PUBLISHED: (RECORD_ARTICLE_STATUS, NOTIFY_SUBSCRIBERS),
    ev.ARTICLE_UNPUBLISHED: (REMOVE_ARTICLE, RECORD_ARTICLE_STATUS, NOTIFY_SUBSCRIBERS),
    ev.ARTICLE_SUBMITTED: (RECORD_ARTICLE_STATUS, NOTIFY_SUBSCRIBERS),
    ev.TRANSLATION_STATUS_CHANGED: (NOTIFY_SUBSCRIBERS,),
    ev.ARTICLE_SCHEDULE_MISSED: (NOTIFY_SUBSCRIBERS,),
    ev.TRANSLATION_REQUESTED: (RECORD_TRANSLATION_ASSIGNMENT, NOTIFY_SUBSCRIBERS),
    ev.TRANSLATION_DELIVERED: (STORE_DELIVERED_TRANSLATION, NOTIFY_SUBSCRIBERS),
    # Never to webhook subscribers: only the account's owner hears of it, by email.
    ev.PASSWORD_RESET_REQUESTED: (SEND_PASSWORD_RESET,),
})

# Event types a webhook subscription may ask for (those routed to the notification service).
SUBSCRIBABLE_EVENTS: tuple[str, ...] = tuple(
    sorted(t for t, subs in EVENT_SUBSCRIBERS.items() if NOTIFY_SUBSCRIBERS in subs)
)


def queue_for(task_name: str) -> str:
    """The queue a task is routed to."""
    return TASK_QUEUES[task_name]


def celery_routes() -> dict[str, dict]:
    """``task_routes`` for Celery, derived from ``TASK_QUEUES``."""
    return {name: {"queue": queue} for name, queue in TASK_QUEUES.items()}
