"""Handlers of other services' events: rendering's answer to a publish, a vendor's delivered translation."""
from __future__ import annotations

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Connection

from shared import events as ev
from shared.errors import Conflict, NotFound
from shared.events import aware, utcnow
from shared.metrics import observe_publish_latency
from shared.outbox import emit
from shared.workflow import Role, State

from .commands import create_article, event_fields, transition, update_article, waiting_revision
from .db import articles, audit_log, outbox, revisions, translation_assignments
from .queries import editor_recipients, get_article, source_article
from .validation import parse_article_update


def record_render_result(conn: Connection, event: ev.Event, *, site_url: str) -> dict | None:
    """Move a publishing article to published (or back to approved) after rendering answered."""
    try:
        article = get_article(conn, event.article_id)
    except NotFound:
        return None
    # A stale or repeated answer (the article moved on, or a newer revision is being rendered).
    if article["state"] != State.PUBLISHING or event.revision != article["approved_revision"]:
        return None
    if isinstance(event, ev.ArticleRendered):
        article = transition(conn, article["id"], "rendered", actor="rendering", role=Role.SYSTEM,
                             site_url=site_url, url=event.url)
        started = conn.execute(select(func.max(audit_log.c.at)).where(and_(
            audit_log.c.article_id == article["id"], audit_log.c.action.in_(("publish", "publish_due"))))).scalar()
        if started is not None:
            observe_publish_latency((utcnow() - aware(started)).total_seconds())
        return article
    return transition(conn, article["id"], "render_failed", actor="rendering", role=Role.SYSTEM,
                      site_url=site_url, error=event.error)


def store_delivered_translation(conn: Connection, event: ev.TranslationDelivered, *, site_url: str) -> dict | None:
    """Create or update the group's translation from a vendor delivery and put it in review."""
    source = source_article(conn, event.group_id)
    if source is None:
        return None  # the group is gone; nothing to attach the translation to
    fields = {"title": event.title, "body": event.body, "author": dict(event.author, bio_lang=None),
              "references": event.references, "tags": source["tags"],
              "categories": source["categories"]}
    clean = parse_article_update(
        {k: v for k, v in fields.items()}, (event.lang,) + (source["lang"],), max_body=10_000_000)
    existing = conn.execute(select(articles).where(
        and_(articles.c.group_id == event.group_id, articles.c.lang == event.lang))).mappings().first()
    actor = f"vendor:{event.vendor}" if event.vendor else "vendor"
    if existing is None:
        article = create_article(conn, dict(clean, lang=event.lang, group_id=event.group_id), actor=actor, role=Role.SYSTEM)
        conn.execute(update(articles).where(articles.c.id == article["id"]).values(source_hash=event.source_hash))
        conn.execute(update(revisions).where(and_(revisions.c.article_id == article["id"], revisions.c.revision == 1))
                     .values(source_hash=event.source_hash))
    else:
        if existing["state"] in (State.PUBLISHING, State.ARCHIVED):
            raise Conflict(f"the {event.lang} translation is {existing['state']}; it cannot take a delivery now")
        # A published (approved, scheduled) translation keeps its live revision: the delivery becomes a
        # revision that waits for an editor, and the audit log says who made it from which source revision.
        article = update_article(conn, existing["id"], dict(clean, source_hash=event.source_hash), actor=actor,
                                 role=Role.SYSTEM,
                                 origin=f"delivered by {event.vendor or 'a vendor'}, translated from source revision "
                                        f"{event.source_revision}")
    article = get_article(conn, article["id"])
    if article["state"] == State.DRAFT:
        article = transition(conn, article["id"], "submit", actor=actor, role=Role.SYSTEM, site_url=site_url)
    elif waiting_revision(article) is not None:
        # No transition (the article keeps its state and live revision), but the new revision is
        # submitted for review all the same: editors hear of it as of any submission.
        emit(conn, outbox, ev.ArticleSubmitted(**dict(event_fields(conn, article, actor),
                                                      recipients=editor_recipients(conn))))
    return article


def record_translation_assignment(conn: Connection, event: ev.TranslationRequested) -> None:
    """Remember which translator a language of a group is assigned to (they may then edit that translation)."""
    conn.execute(delete(translation_assignments).where(and_(
        translation_assignments.c.group_id == event.group_id, translation_assignments.c.lang == event.lang)))
    if event.translator:
        conn.execute(translation_assignments.insert().values(
            group_id=event.group_id, lang=event.lang, translator=event.translator.lower(), assigned_at=utcnow()))
