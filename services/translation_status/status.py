"""Per-language translation status, maintained from ingest's article events."""
from __future__ import annotations

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from shared import events as ev
from shared.events import iso, utcnow
from shared.outbox import emit

from .db import groups, outbox, statuses

MISSING, REQUESTED, IN_PROGRESS, IN_REVIEW, READY, PUBLISHED, NEEDS_UPDATE = (
    "missing", "requested", "in_progress", "in_review", "ready", "published", "needs_update",
)
STATUSES = (MISSING, REQUESTED, IN_PROGRESS, IN_REVIEW, READY, PUBLISHED, NEEDS_UPDATE)

# Article workflow state -> translation status of that language.
STATE_TO_STATUS = {
    "draft": IN_PROGRESS,
    "in_review": IN_REVIEW,
    "approved": READY,
    "scheduled": READY,
    "publishing": READY,
    "published": PUBLISHED,
    "unpublished": READY,
    "archived": MISSING,
}


def status_for(state: str, follows_hash: str | None, source_hash: str, is_source: bool) -> str:
    """The status of one language: from its article state, or needs_update when the source moved on."""
    status = STATE_TO_STATUS[state]
    if not is_source and status != MISSING and follows_hash and follows_hash != source_hash:
        return NEEDS_UPDATE
    return status


def _set_status(conn: Connection, group_id: str, lang: str, new: str, values: dict, occurred_at: str,
                correlation_id: str | None) -> None:
    row = conn.execute(select(statuses).where(and_(statuses.c.group_id == group_id, statuses.c.lang == lang))).mappings().first()
    now = utcnow()
    values = dict(values, status=new, last_event_at=occurred_at, updated_at=now)
    if row is None:
        conn.execute(statuses.insert().values(group_id=group_id, lang=lang, **values))
        old = MISSING
    else:
        conn.execute(update(statuses).where(and_(statuses.c.group_id == group_id, statuses.c.lang == lang)).values(**values))
        old = row["status"]
    if old != new:
        emit(conn, outbox, ev.TranslationStatusChanged(
            group_id=group_id, lang=lang, old_status=old, new_status=new,
            article_id=values.get("article_id") or (row and row["article_id"]),
            url=values.get("url") or (row and row["url"]), title=values.get("title") or (row and row["title"]),
        ), correlation_id)


def record_article_event(conn: Connection, event: ev.ArticleChanged, occurred_at: str,
                         correlation_id: str | None = None) -> None:
    """Apply one article event to its group's statuses (older events than the last seen are ignored)."""
    now = utcnow()
    group = conn.execute(select(groups).where(groups.c.group_id == event.group_id)).mappings().first()
    if event.is_source:
        if group is None:
            conn.execute(groups.insert().values(
                group_id=event.group_id, source_lang=event.lang, source_article_id=event.article_id,
                source_hash=event.content_hash, source_revision=event.revision, created_at=now, updated_at=now,
            ))
        elif event.revision >= group["source_revision"]:
            conn.execute(update(groups).where(groups.c.group_id == event.group_id).values(
                source_hash=event.content_hash, source_revision=event.revision, updated_at=now))
        source_hash = event.content_hash if group is None or event.revision >= group["source_revision"] else group["source_hash"]
    else:
        source_hash = group["source_hash"] if group else ""

    current = conn.execute(select(statuses).where(
        and_(statuses.c.group_id == event.group_id, statuses.c.lang == event.lang))).mappings().first()
    if current is None or occurred_at >= current["last_event_at"]:
        follows = current["source_hash"] if current and current["source_hash"] else (None if event.is_source else source_hash)
        if event.is_source:
            follows = event.content_hash
        values = {"article_id": event.article_id, "article_state": event.state, "revision": event.revision,
                  "title": event.title, "source_hash": follows}
        if isinstance(event, ev.ArticlePublished):
            values["url"] = event.url
        elif isinstance(event, ev.ArticleUnpublished):
            values["url"] = None
        new = status_for(event.state, follows, source_hash, event.is_source)
        _set_status(conn, event.group_id, event.lang, new, values, occurred_at, correlation_id)

    if event.is_source:
        # The source changed: translations made from an older source now need an update.
        for row in conn.execute(select(statuses).where(and_(
                statuses.c.group_id == event.group_id, statuses.c.lang != event.lang))).mappings().all():
            if row["article_state"] is None:
                continue
            new = status_for(row["article_state"], row["source_hash"], source_hash, False)
            if new != row["status"]:
                _set_status(conn, event.group_id, row["lang"], new, {}, row["last_event_at"], correlation_id)


def group_view(conn: Connection, group_id: str, languages: tuple[str, ...]) -> dict | None:
    """The group with every configured language's status (``missing`` when there is no version)."""
    group = conn.execute(select(groups).where(groups.c.group_id == group_id)).mappings().first()
    rows = {r["lang"]: dict(r) for r in conn.execute(select(statuses).where(statuses.c.group_id == group_id)).mappings()}
    if group is None and not rows:
        return None
    langs = {}
    for lang in list(languages) + [lang for lang in rows if lang not in languages]:
        row = rows.get(lang)
        langs[lang] = {
            "status": row["status"] if row else MISSING,
            "article_id": row["article_id"] if row else None,
            "revision": row["revision"] if row else None,
            "title": row["title"] if row else None,
            "url": row["url"] if row else None,
            "translator": row["translator"] if row else None,
            "due_at": iso(row["due_at"]) if row else None,
            "updated_at": iso(row["updated_at"]) if row else None,
        }
    return {
        "group_id": group_id,
        "source_lang": group["source_lang"] if group else None,
        "source_article_id": group["source_article_id"] if group else None,
        "source_hash": group["source_hash"] if group else None,
        "languages": langs,
    }
