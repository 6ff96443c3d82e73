"""Per-language translation status, maintained from ingest's article events."""
from __future__ import annotations

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.engine import Connection

from shared import events as ev
from shared.events import aware, iso, utcnow
from shared.content import parse_datetime, parse_references
from shared.errors import InvalidInput
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


def status_for(state: str, follows_hash: str | None, source_hash: str, is_source: bool,
               waiting_revision: int | None = None) -> str:
    """The status of one language: from its article state, needs_update when the source moved on, in_review
    when a newer revision of an approved or published translation waits for an editor."""
    status = STATE_TO_STATUS[state]
    if not is_source and status != MISSING and follows_hash and follows_hash != source_hash:
        return NEEDS_UPDATE
    if not is_source and waiting_revision and status in (READY, PUBLISHED):
        return IN_REVIEW  # a second round: the live (or approved) revision stays until this one is approved
    return status


def _lock_group(conn: Connection, group_id: str) -> None:
    """Serialise the handlers of one group's events until the transaction ends."""
    # A status depends on the group's source hash and a source event rewrites its siblings' rows, so a
    # row lock is not enough and the group's row may not exist yet: a transaction-scoped advisory lock
    # on the group id covers both. SQLite needs none: BEGIN IMMEDIATE already serialises writers.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:group_id))"), {"group_id": group_id})


def _is_newer(event: ev.ArticleChanged, occurred_at: str, row: dict | None) -> bool:
    """Whether ``event`` is newer than what ``row`` holds (events sent before seq existed: by time, and only then)."""
    if row is None:
        return True
    if event.seq:
        return event.seq > row["seq"]
    return row["seq"] == 0 and occurred_at >= row["last_event_at"]


def _set_status(conn: Connection, group_id: str, lang: str, new: str, values: dict, occurred_at: str,
                seq: int | None = None) -> bool:
    """Write the row (only over an older seq when ``seq`` is given) and emit the change; False when stale."""
    where = and_(statuses.c.group_id == group_id, statuses.c.lang == lang)
    row = conn.execute(select(statuses).where(where)).mappings().first()
    now = utcnow()
    values = dict(values, status=new, last_event_at=occurred_at, updated_at=now)
    old = row["status"] if row else MISSING
    changed = old != new
    if changed:
        values["status_seq"] = (row["status_seq"] if row else 0) + 1
    if row is None:
        conn.execute(statuses.insert().values(group_id=group_id, lang=lang, **values))
    else:
        stmt = update(statuses).where(where)
        if seq:
            # Compare-and-set: whatever this transaction read, an event older than the row's changes nothing.
            stmt = stmt.where(statuses.c.seq < seq)
        if conn.execute(stmt.values(**values)).rowcount == 0:
            return False
    if changed:
        emit(conn, outbox, ev.TranslationStatusChanged(
            group_id=group_id, lang=lang, old_status=old, new_status=new,
            article_id=values.get("article_id") or (row and row["article_id"]),
            url=values.get("url") or (row and row["url"]), title=values.get("title") or (row and row["title"]),
            sequence=values["status_seq"],
        ))
    return True


def record_article_event(conn: Connection, event: ev.ArticleChanged, occurred_at: str) -> None:
    """Apply one article event to its group's statuses, once and in order: only when its seq is newer than the row's."""
    _lock_group(conn, event.group_id)
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
    if _is_newer(event, occurred_at, current):
        if event.is_source:
            follows = event.content_hash
        else:  # what ingest says it was made from, else what we knew, else the source as it is now
            follows = event.source_hash or (current["source_hash"] if current else None) or source_hash or None
        values = {"article_id": event.article_id, "article_state": event.state, "revision": event.revision,
                  "title": event.title, "source_hash": follows, "seq": event.seq,
                  "waiting_revision": event.waiting_revision, "live_source_hash": event.live_source_hash}
        if isinstance(event, ev.ArticlePublished):
            values["url"] = event.url
        elif isinstance(event, ev.ArticleUnpublished):
            values["url"] = None
        new = status_for(event.state, follows, source_hash, event.is_source, event.waiting_revision)
        _set_status(conn, event.group_id, event.lang, new, values, occurred_at, seq=event.seq)

    if event.is_source:
        # The source changed: translations made from an older source now need an update.
        for row in conn.execute(select(statuses).where(and_(
                statuses.c.group_id == event.group_id, statuses.c.lang != event.lang))).mappings().all():
            if row["article_state"] is None or row["status"] == REQUESTED:
                continue  # requested stays requested until that language's next version arrives
            new = status_for(row["article_state"], row["source_hash"], source_hash, False, row["waiting_revision"])
            if new != row["status"]:
                _set_status(conn, event.group_id, row["lang"], new, {}, row["last_event_at"])


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
            "vendor": row["vendor"] if row else None,
            "sequence": row["status_seq"] if row else 0,
            "waiting_revision": row["waiting_revision"] if row else None,
            "requested_by": row["requested_by"] if row else None,
            "due_at": iso(row["due_at"]) if row else None,
            "overdue": bool(row and is_overdue(row)),
            "updated_at": iso(row["updated_at"]) if row else None,
        }
    return {
        "group_id": group_id,
        "source_lang": group["source_lang"] if group else None,
        "source_article_id": group["source_article_id"] if group else None,
        "source_hash": group["source_hash"] if group else None,
        "languages": langs,
    }


# A published or needs_update language can be requested again: a second round.
REQUESTABLE = (MISSING, NEEDS_UPDATE, REQUESTED, PUBLISHED)


def is_overdue(row: dict) -> bool:
    """A requested or unfinished translation whose due date has passed."""
    due = aware(row.get("due_at"))
    return bool(due and due < utcnow() and row["status"] in (REQUESTED, IN_PROGRESS, NEEDS_UPDATE))


OVERDUE_STATUSES = (REQUESTED, IN_PROGRESS, NEEDS_UPDATE)


def overdue_translations(conn: Connection, *, translator: str | None = None, limit: int = 50) -> dict:
    """Translations past their due date (oldest due first), optionally only one translator's, and how many."""
    where = and_(statuses.c.due_at.is_not(None), statuses.c.due_at < utcnow(), statuses.c.status.in_(OVERDUE_STATUSES),
                 *([func.lower(statuses.c.translator) == translator.strip().lower()] if translator else []))
    rows = conn.execute(select(statuses, groups.c.source_article_id, groups.c.source_lang)
                        .select_from(statuses.outerjoin(groups, groups.c.group_id == statuses.c.group_id))
                        .where(where).order_by(statuses.c.due_at).limit(limit)).mappings().all()
    count = conn.execute(select(func.count()).select_from(statuses).where(where)).scalar_one()
    source_titles = {(r.group_id, r.lang): r.title for r in conn.execute(
        select(statuses.c.group_id, statuses.c.lang, statuses.c.title)
        .where(statuses.c.group_id.in_({r["group_id"] for r in rows})))} if rows else {}
    items = [{"group_id": r["group_id"], "lang": r["lang"], "status": r["status"], "title": r["title"],
              "source_title": source_titles.get((r["group_id"], r["source_lang"])),
              "article_id": r["article_id"], "source_article_id": r["source_article_id"],
              "translator": r["translator"], "vendor": r["vendor"], "due_at": iso(r["due_at"])} for r in rows]
    return {"count": count, "overdue": items}


def parse_request(data: dict, languages: tuple[str, ...]) -> dict:
    """Validate ``{lang, translator | vendor, due_at}``."""
    lang = data.get("lang")
    if lang not in languages:
        raise InvalidInput("lang", f"must be one of {', '.join(languages)}")
    translator, vendor = data.get("translator") or None, data.get("vendor") or None
    if bool(translator) == bool(vendor):
        raise InvalidInput("translator", "give either a translator's email or a vendor name, not both")
    if translator is not None and (not isinstance(translator, str) or "@" not in translator or len(translator) > 320):
        raise InvalidInput("translator", "must be the translator's email address")
    if vendor is not None and (not isinstance(vendor, str) or len(vendor) > 100):
        raise InvalidInput("vendor", "must be a vendor name of at most 100 characters")
    due_at = parse_datetime(data.get("due_at") or None, "due_at")
    return {"lang": lang, "translator": translator, "vendor": vendor, "due_at": due_at}


def request_translation(conn: Connection, group_id: str, fields: dict, source: dict, *, requested_by: str,
                        callback_url: str) -> dict:
    """Mark the language ``requested`` and emit TranslationRequested carrying the source."""
    _lock_group(conn, group_id)  # the row is read, then written: no article event may land in between
    group = conn.execute(select(groups).where(groups.c.group_id == group_id)).mappings().first()
    if group is None:
        raise InvalidInput("group_id", f"no translation group {group_id}", status=404)
    if fields["lang"] == group["source_lang"]:
        raise InvalidInput("lang", f"{fields['lang']} is the source language of this group")
    current = conn.execute(select(statuses).where(
        and_(statuses.c.group_id == group_id, statuses.c.lang == fields["lang"]))).mappings().first()
    status = current["status"] if current else MISSING
    if status not in REQUESTABLE:
        raise InvalidInput("lang", f"the {fields['lang']} translation is {status}; only {', '.join(REQUESTABLE)} can be requested",
                           status=409)
    now = utcnow()
    values = {"translator": fields["translator"], "vendor": fields["vendor"], "due_at": fields["due_at"],
              "requested_by": requested_by, "requested_at": now}
    # A second round too: requested (with the new due date) until the new version arrives.
    _set_status(conn, group_id, fields["lang"], REQUESTED, values, current["last_event_at"] if current else "")
    recipients = [{"email": fields["translator"], "lang": fields["lang"]}] if fields["translator"] else []
    emit(conn, outbox, ev.TranslationRequested(
        group_id=group_id, lang=fields["lang"], source_lang=group["source_lang"],
        source_article_id=group["source_article_id"], source_revision=source["revision"],
        source_hash=source["content_hash"], title=source["title"], body=source["body"],
        references=source["references"], due_at=iso(fields["due_at"]), translator=fields["translator"],
        vendor=fields["vendor"], requested_by=requested_by, callback_url=callback_url, recipients=recipients,
    ))
    return group_view(conn, group_id, (fields["lang"],))["languages"][fields["lang"]]


def parse_delivery(data: dict, languages: tuple[str, ...]) -> dict:
    """Validate a vendor's ``translation.delivered`` callback body."""
    if data.get("type") != "translation.delivered":
        raise InvalidInput("type", "must be translation.delivered")
    body = data.get("data")
    if not isinstance(body, dict):
        raise InvalidInput("data", "must be an object with group_id, lang, title, body, references, source_hash")
    out = {}
    for name in ("group_id", "lang", "title", "body", "source_hash"):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"data.{name}", "is required and must be a non-empty string")
        out[name] = value.strip()
    if out["lang"] not in languages:
        raise InvalidInput("data.lang", f"must be one of {', '.join(languages)}")
    if len(out["title"]) > 300:
        raise InvalidInput("data.title", "must be at most 300 characters")
    out["references"] = parse_references(body.get("references", []), "data.references")
    revision = body.get("source_revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise InvalidInput("data.source_revision", "must be the source revision from translation.requested")
    out["source_revision"] = revision
    translator = body.get("translator") or {}
    if not isinstance(translator, dict):
        raise InvalidInput("data.translator", "must be an object {name}")
    out["translator"] = translator
    return out


def deliver_translation(conn: Connection, fields: dict, *, vendor: str | None) -> None:
    """Accept a vendor's translation for a requested language and emit TranslationDelivered."""
    _lock_group(conn, fields["group_id"])
    row = conn.execute(select(statuses).where(
        and_(statuses.c.group_id == fields["group_id"], statuses.c.lang == fields["lang"]))).mappings().first()
    if row is None or not (row["vendor"] or row["translator"]):
        raise InvalidInput("data.lang", "no translation was requested for this group and language", status=409)
    group = conn.execute(select(groups).where(groups.c.group_id == fields["group_id"])).mappings().one()
    author = {"name": fields["translator"].get("name") or row["vendor"] or "Translation vendor", "bio": ""}
    if fields["translator"].get("name"):
        conn.execute(update(statuses).where(and_(statuses.c.group_id == fields["group_id"], statuses.c.lang == fields["lang"]))
                     .values(translator=fields["translator"]["name"][:320], updated_at=utcnow()))
    requester = row["requested_by"]
    emit(conn, outbox, ev.TranslationDelivered(
        group_id=fields["group_id"], lang=fields["lang"], title=fields["title"], body=fields["body"],
        references=fields["references"], source_revision=fields["source_revision"],
        source_hash=fields["source_hash"], author=author, vendor=row["vendor"] or vendor,
        requested_by=requester,
        recipients=[{"email": requester, "lang": group["source_lang"]}] if requester and "@" in requester else [],
    ))
