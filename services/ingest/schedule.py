"""Scheduled publishing: the beat sweep that publishes what is due, and the list of overdue schedules."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from shared import events as ev
from shared.events import aware, iso, utcnow
from shared.outbox import emit
from shared.runtime import Runtime
from shared.workflow import Role, State

from .commands import event_fields, transition
from .db import articles, audit_log, outbox
from .queries import editor_recipients, get_article




def publish_due(rt: Runtime) -> int:
    """Publish every scheduled article whose time has come; a late one is flagged in the audit log."""
    now = utcnow()
    with rt.engine.begin() as conn:
        due = conn.execute(
            select(articles.c.id, articles.c.publish_at).where(
                and_(articles.c.state == State.SCHEDULED.value, articles.c.publish_at <= now)
            )
        ).all()
    count = 0
    for article_id, publish_at in due:
        with rt.transaction() as conn:
            article = get_article(conn, article_id)
            if article["state"] != State.SCHEDULED:
                continue  # another sweep got there first
            article = transition(conn, article_id, "publish_due", actor="scheduler", role=Role.SYSTEM,
                                 site_url=rt.settings.site_url)
            lateness = (now - aware(publish_at)).total_seconds()
            # This late is flagged in the audit log and editors are told (an alert, not a silent skip).
            if lateness > rt.settings.schedule_late_after_seconds:
                entry = conn.execute(select(func.max(audit_log.c.id)).where(and_(
                    audit_log.c.article_id == article_id, audit_log.c.action == "publish_due"))).scalar_one()
                conn.execute(update(audit_log).where(audit_log.c.id == entry).values(
                    note=f"late: published {int(lateness)} s after its scheduled time; " + func.coalesce(audit_log.c.note, "")))
                emit(conn, outbox, ev.ArticleScheduleMissed(
                    **dict(event_fields(conn, article, "scheduler"), recipients=editor_recipients(conn)),
                    publish_at=iso(publish_at), late_seconds=int(lateness)))
        count += 1
    return count


def overdue_schedules(conn: Connection, late_after_seconds: float) -> list[dict]:
    """Scheduled articles more than ``late_after_seconds`` past their time and not live yet (an alert, not a skip)."""
    cutoff = utcnow() - timedelta(seconds=late_after_seconds)
    rows = conn.execute(select(articles.c.id, articles.c.title, articles.c.lang, articles.c.state, articles.c.publish_at)
                        .where(and_(articles.c.state.in_((State.SCHEDULED.value, State.PUBLISHING.value)),
                                    articles.c.publish_at.is_not(None), articles.c.publish_at <= cutoff))
                        .order_by(articles.c.publish_at)).mappings()
    return [dict(r) for r in rows]
