"""The ingest service layer: validate input, create and edit articles, apply workflow transitions.

Every function takes an open connection (the caller's transaction) and writes its events to the
outbox in that same transaction; the entry points commit and then relay.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from shared import events as ev
from shared import workflow
from shared.events import aware, iso, utcnow
from shared.content import InvalidInput, parse_references, text_field
from shared.markup import content_hash, make_slug, markdown_to_html
from shared.observability import observe_publish_latency
from shared.outbox import emit
from shared.workflow import Role, State

from .db import articles, audit_log, outbox, revisions, users

MAX_TITLE = 300
MAX_TAGS = 30
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class NotFound(LookupError):
    """No article has that id."""


class Conflict(Exception):
    """The request clashes with existing data (HTTP 409)."""


def _author(data: dict, languages: tuple[str, ...]) -> dict:
    author = data.get("author")
    if not isinstance(author, dict):
        raise InvalidInput("author", "must be an object such as {\"name\": \"...\", \"bio\": \"...\"}")
    name = text_field(author, "name", required=True, max_len=200) if "name" in author else None
    if not name:
        raise InvalidInput("author.name", "is required")
    bio = author.get("bio") or ""
    if not isinstance(bio, str) or len(bio) > 5000:
        raise InvalidInput("author.bio", "must be a string of at most 5000 characters")
    bio_lang = author.get("bio_lang")
    if bio_lang is not None and bio_lang not in languages:
        raise InvalidInput("author.bio_lang", f"must be one of {', '.join(languages)}")
    return {"name": name, "bio": bio.strip(), "bio_lang": bio_lang}


def _tags(data: dict) -> list[str]:
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidInput("tags", "must be a list of strings")
    cleaned = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > 60:
            raise InvalidInput("tags", f"tag {tag[:20]!r}... is longer than 60 characters")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput("tags", f"at most {MAX_TAGS} tags")
    return cleaned


def parse_article_input(data: dict, languages: tuple[str, ...], *, max_body: int) -> dict:
    """Validate a create request; return the clean fields or raise InvalidInput."""
    known = {"lang", "title", "body", "author", "references", "tags", "group_id"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field; known fields are {', '.join(sorted(known))}")
    lang = text_field(data, "lang", required=True, max_len=8)
    if lang not in languages:
        raise InvalidInput("lang", f"{lang!r} is not a site language; use one of {', '.join(languages)}")
    group_id = data.get("group_id")
    if group_id is not None and (not isinstance(group_id, str) or not _UUID_RE.match(group_id)):
        raise InvalidInput("group_id", "must be the UUID of an existing translation group")
    return {
        "lang": lang,
        "title": text_field(data, "title", required=True, max_len=MAX_TITLE),
        "body": text_field(data, "body", required=True, max_len=max_body),
        "author": _author(data, languages),
        "references": parse_references(data.get("references", [])),
        "tags": _tags(data),
        "group_id": group_id,
    }


def parse_article_update(data: dict, languages: tuple[str, ...], *, max_body: int) -> dict:
    """Validate an edit request (any subset of title, body, author, references, tags)."""
    editable = {"title", "body", "author", "references", "tags"}
    unknown = sorted(set(data) - editable)
    if unknown:
        raise InvalidInput(unknown[0], f"cannot be edited; editable fields are {', '.join(sorted(editable))}")
    if not data:
        raise InvalidInput("body", "nothing to change; send at least one editable field")
    out = {}
    if "title" in data:
        out["title"] = text_field(data, "title", required=True, max_len=MAX_TITLE)
    if "body" in data:
        out["body"] = text_field(data, "body", required=True, max_len=max_body)
    if "author" in data:
        out["author"] = _author(data, languages)
    if "references" in data:
        out["references"] = parse_references(data.get("references", []))
    if "tags" in data:
        out["tags"] = _tags(data)
    return out


def _unique_slug(conn: Connection, lang: str, title: str, exclude_id: str | None = None) -> str:
    base = make_slug(title)
    slug, n = base, 1
    while True:
        query = select(articles.c.id).where(and_(articles.c.lang == lang, articles.c.slug == slug))
        if exclude_id:
            query = query.where(articles.c.id != exclude_id)
        if conn.execute(query).first() is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


def get_article(conn: Connection, article_id: str) -> dict:
    """One article as a dict, or NotFound."""
    row = conn.execute(select(articles).where(articles.c.id == article_id)).mappings().first()
    if row is None:
        raise NotFound(article_id)
    return dict(row)


def _source_lang(conn: Connection, group_id: str) -> str | None:
    row = conn.execute(
        select(articles.c.lang).where(and_(articles.c.group_id == group_id, articles.c.is_source.is_(True)))
    ).first()
    return row[0] if row else None


def _event_fields(conn: Connection, article: dict, actor: str) -> dict:
    return {
        "article_id": article["id"],
        "group_id": article["group_id"],
        "lang": article["lang"],
        "state": article["state"],
        "revision": article["revision"],
        "content_hash": article["content_hash"],
        "title": article["title"],
        "is_source": bool(article["is_source"]),
        "source_lang": _source_lang(conn, article["group_id"]) or article["lang"],
        "actor": actor,
        "source_hash": None if article["is_source"] else article["source_hash"],
        "source_revision": None if article["is_source"] else _source_revision(conn, article["group_id"], article["source_hash"]),
    }


def _source_article(conn: Connection, group_id: str) -> dict | None:
    row = conn.execute(select(articles).where(
        and_(articles.c.group_id == group_id, articles.c.is_source.is_(True)))).mappings().first()
    return dict(row) if row else None


def _source_revision(conn: Connection, group_id: str, source_hash: str | None) -> int | None:
    """The source revision whose content a translation was made from (by content hash)."""
    source = _source_article(conn, group_id)
    if source is None or not source_hash:
        return None
    return conn.execute(select(func.max(revisions.c.revision)).where(and_(
        revisions.c.article_id == source["id"], revisions.c.content_hash == source_hash))).scalar()


def editor_recipients(conn: Connection) -> list[dict]:
    """Every editor and admin, as email recipients in their own language."""
    rows = conn.execute(select(users.c.email, users.c.lang).where(users.c.role.in_(("editor", "admin"))))
    return [{"email": email, "lang": lang or "en"} for email, lang in rows]


def create_article(conn: Connection, fields: dict, *, actor: str, correlation_id: str | None = None,
                   role: Role | str | None = None) -> dict:
    """Insert a draft (revision 1) and emit ArticleCreated; return the article (``role`` goes to the audit log)."""
    now = utcnow()
    group_id = fields["group_id"]
    is_source = True
    source_hash = None
    if group_id:
        siblings = conn.execute(
            select(articles.c.lang, articles.c.is_source, articles.c.content_hash).where(articles.c.group_id == group_id)
        ).all()
        if not siblings:
            raise InvalidInput("group_id", "no article belongs to this group; create the source article first")
        if any(lang == fields["lang"] for lang, _, _ in siblings):
            raise Conflict(f"group {group_id} already has a {fields['lang']!r} version; edit that one instead")
        is_source = False
        source_hash = next((h for _, src, h in siblings if src), None)
    else:
        group_id = str(uuid.uuid4())
    article_id = str(uuid.uuid4())
    digest = content_hash(fields["title"], fields["body"], fields["references"])
    row = {
        "id": article_id,
        "group_id": group_id,
        "lang": fields["lang"],
        "is_source": is_source,
        "slug": _unique_slug(conn, fields["lang"], fields["title"]),
        "title": fields["title"],
        "body": fields["body"],
        "body_html": markdown_to_html(fields["body"]),
        "author": fields["author"],
        "references": fields["references"],
        "tags": fields["tags"],
        "state": State.DRAFT.value,
        "revision": 1,
        "content_hash": digest,
        "source_hash": source_hash,
        "created_by": actor,
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(articles.insert().values(**row))
    _add_revision(conn, row, actor, now)
    conn.execute(audit_log.insert().values(
        article_id=article_id, action="create", from_state=None, to_state=State.DRAFT.value,
        actor=actor, role=Role(role).value if role else (Role.ADMIN.value if actor == "api" else Role.AUTHOR.value),
        revision=1, at=now,
    ))
    article = get_article(conn, article_id)
    emit(conn, outbox, ev.ArticleCreated(**_event_fields(conn, article, actor)), correlation_id)
    return article


def _add_revision(conn: Connection, row: dict, actor: str, now: datetime) -> None:
    conn.execute(revisions.insert().values(
        article_id=row["id"], revision=row["revision"], title=row["title"], body=row["body"],
        author=row["author"], references=row["references"], tags=row["tags"],
        content_hash=row["content_hash"], created_by=actor, created_at=now,
    ))


def update_article(conn: Connection, article_id: str, changes: dict, *, actor: str,
                   correlation_id: str | None = None) -> dict:
    """Save an edit as a new revision; a published article keeps its live revision until republished."""
    article = get_article(conn, article_id)
    if article["state"] in (State.PUBLISHING, State.ARCHIVED):
        raise Conflict(f"an article in state {article['state']!r} cannot be edited; wait for it to publish or restore it")
    merged = {k: changes.get(k, article[k]) for k in ("title", "body", "author", "references", "tags")}
    digest = content_hash(merged["title"], merged["body"], merged["references"])
    if digest == article["content_hash"] and merged["author"] == article["author"] and merged["tags"] == article["tags"]:
        return article
    now = utcnow()
    values = dict(merged, body_html=markdown_to_html(merged["body"]), content_hash=digest,
                  revision=article["revision"] + 1, updated_at=now)
    if not article["is_source"]:
        # A translator's edit brings the translation up to the source as it is now.
        source = _source_article(conn, article["group_id"])
        values["source_hash"] = changes.get("source_hash") or (source["content_hash"] if source else None)
    conn.execute(update(articles).where(articles.c.id == article_id).values(**values))
    article = get_article(conn, article_id)
    _add_revision(conn, article, actor, now)
    emit(conn, outbox, ev.ArticleUpdated(**_event_fields(conn, article, actor)), correlation_id)
    return article


def public_path(lang: str, slug: str) -> str:
    """The site path of a language version."""
    return f"/{lang}/{slug}/"


def snapshot(conn: Connection, article: dict) -> dict:
    """Everything rendering needs to render ``article``, so it never reads this database."""
    published_at = article["published_at"] or utcnow()
    return {
        "article_id": article["id"],
        "group_id": article["group_id"],
        "lang": article["lang"],
        "is_source": bool(article["is_source"]),
        "source_lang": _source_lang(conn, article["group_id"]) or article["lang"],
        "slug": article["slug"],
        "title": article["title"],
        "body_html": article["body_html"],
        "author": article["author"],
        "references": article["references"],
        "tags": article["tags"],
        "revision": article["revision"],
        "published_at": iso(published_at),
        "updated_at": iso(article["updated_at"]),
    }


def published_translations(conn: Connection, group_id: str, site_url: str) -> dict[str, str]:
    """lang -> public URL of every published version of the group."""
    rows = conn.execute(
        select(articles.c.lang, articles.c.slug).where(
            and_(articles.c.group_id == group_id, articles.c.state == State.PUBLISHED.value)
        )
    ).all()
    return {lang: site_url + public_path(lang, slug) for lang, slug in rows}


def transition(conn: Connection, article_id: str, action: str, *, actor: str, role: Role | str,
               site_url: str, correlation_id: str | None = None, url: str | None = None,
               error: str | None = None, publish_at: datetime | None = None) -> dict:
    """Apply ``action`` as ``role`` (the transition table decides), audit it and emit its event."""
    article = get_article(conn, article_id)
    move = workflow.decide(article["state"], action, role)
    if action == "schedule" and publish_at is None:
        raise InvalidInput("publish_at", "scheduling needs publish_at, an ISO date-time with a timezone")
    now = utcnow()
    values: dict = {"state": move.target.value, "updated_at": now}
    note = None
    if action == "publish" and article["state"] in (State.DRAFT, State.IN_REVIEW):
        note = "implicit approval by publishing"
    if action == "schedule":
        values["publish_at"] = publish_at
    if action in ("unschedule",):
        values["publish_at"] = None
    if action == "rendered":
        values.update(public_url=url, published_revision=article["revision"], last_error=None)
        if article["published_at"] is None:
            values["published_at"] = now
    if action == "render_failed":
        values["last_error"] = error
        note = error
    conn.execute(update(articles).where(articles.c.id == article_id).values(**values))
    conn.execute(audit_log.insert().values(
        article_id=article_id, action=action, from_state=article["state"], to_state=move.target.value,
        actor=actor, role=Role(role).value, revision=article["revision"], note=note, at=now,
    ))
    article = get_article(conn, article_id)
    fields = _event_fields(conn, article, actor)
    event_cls = ev.ACTION_EVENTS[action]
    if event_cls is ev.ArticlePublishRequested:
        event = event_cls(**fields, snapshot=snapshot(conn, article))
    elif event_cls is ev.ArticlePublished:
        event = event_cls(
            **fields, url=article["public_url"], slug=article["slug"],
            published_at=iso(article["published_at"]),
            translations=published_translations(conn, article["group_id"], site_url),
        )
    elif event_cls is ev.ArticleUnpublished:
        event = event_cls(**fields, url=article["public_url"] or "", slug=article["slug"])
    elif event_cls is ev.ArticlePublishFailed:
        event = event_cls(**fields, error=error or "")
    elif event_cls is ev.ArticleSubmitted:
        event = event_cls(**dict(fields, recipients=editor_recipients(conn)))
    else:
        event = event_cls(**fields)
    emit(conn, outbox, event, correlation_id)
    return article


def record_render_result(conn: Connection, event: ev.Event, *, site_url: str,
                         correlation_id: str | None = None) -> dict | None:
    """Move a publishing article to published (or back to approved) after rendering answered."""
    try:
        article = get_article(conn, event.article_id)
    except NotFound:
        return None
    # A stale or repeated answer (the article moved on, or a newer revision is being rendered).
    if article["state"] != State.PUBLISHING or event.revision != article["revision"]:
        return None
    if isinstance(event, ev.ArticleRendered):
        article = transition(conn, article["id"], "rendered", actor="rendering", role=Role.SYSTEM,
                             site_url=site_url, url=event.url, correlation_id=correlation_id)
        started = conn.execute(select(func.max(audit_log.c.at)).where(and_(
            audit_log.c.article_id == article["id"], audit_log.c.action.in_(("publish", "publish_due"))))).scalar()
        if started is not None:
            observe_publish_latency((utcnow() - aware(started)).total_seconds())
        return article
    return transition(conn, article["id"], "render_failed", actor="rendering", role=Role.SYSTEM,
                      site_url=site_url, error=event.error, correlation_id=correlation_id)


def audit_entries(conn: Connection, article_id: str) -> list[dict]:
    """The article's audit log, oldest first."""
    rows = conn.execute(select(audit_log).where(audit_log.c.article_id == article_id).order_by(audit_log.c.id))
    return [dict(r) for r in rows.mappings()]


def to_json(article: dict) -> dict:
    """The API representation of an article."""
    out = {k: v for k, v in article.items() if k not in ("body_html",)}
    for key in ("created_at", "updated_at", "published_at", "publish_at"):
        if out.get(key) is not None:
            out[key] = iso(out[key])
    out["is_source"] = bool(out["is_source"])
    return out


LATE_AFTER_SECONDS = 60


def publish_due(rt) -> int:
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
            if lateness > LATE_AFTER_SECONDS:
                conn.execute(update(audit_log).where(and_(
                    audit_log.c.article_id == article_id, audit_log.c.action == "publish_due",
                    audit_log.c.note.is_(None),
                )).values(note=f"late: published {int(lateness)} s after its scheduled time"))
                emit(conn, outbox, ev.ArticleScheduleMissed(
                    **dict(_event_fields(conn, article, "scheduler"), recipients=editor_recipients(conn)),
                    publish_at=iso(publish_at), late_seconds=int(lateness)))
        count += 1
    return count


def store_delivered_translation(conn: Connection, event: ev.TranslationDelivered, *, site_url: str,
                                correlation_id: str | None = None) -> dict | None:
    """Create or update the group's translation from a vendor delivery and put it in review."""
    source = _source_article(conn, event.group_id)
    if source is None:
        return None  # the group is gone; nothing to attach the translation to
    fields = {"title": event.title, "body": event.body, "author": dict(event.author, bio_lang=None),
              "references": event.references, "tags": source["tags"]}
    clean = parse_article_update(
        {k: v for k, v in fields.items()}, (event.lang,) + (source["lang"],), max_body=10_000_000)
    existing = conn.execute(select(articles).where(
        and_(articles.c.group_id == event.group_id, articles.c.lang == event.lang))).mappings().first()
    actor = f"vendor:{event.vendor}" if event.vendor else "vendor"
    if existing is None:
        article = create_article(conn, dict(clean, lang=event.lang, group_id=event.group_id), actor=actor, role=Role.SYSTEM,
                                 correlation_id=correlation_id)
        conn.execute(update(articles).where(articles.c.id == article["id"]).values(source_hash=event.source_hash))
    else:
        if existing["state"] in (State.PUBLISHING, State.ARCHIVED):
            raise Conflict(f"the {event.lang} translation is {existing['state']}; it cannot take a delivery now")
        article = update_article(conn, existing["id"], dict(clean, source_hash=event.source_hash), actor=actor,
                                 correlation_id=correlation_id)
        conn.execute(update(articles).where(articles.c.id == article["id"]).values(source_hash=event.source_hash))
    article = get_article(conn, article["id"])
    if article["state"] == State.DRAFT:
        article = transition(conn, article["id"], "submit", actor=actor, role=Role.SYSTEM, site_url=site_url,
                             correlation_id=correlation_id)
    return article


def revision_list(conn: Connection, article_id: str) -> list[dict]:
    """The revisions of an article, oldest first, without their bodies."""
    rows = conn.execute(select(revisions.c.revision, revisions.c.title, revisions.c.content_hash,
                               revisions.c.created_by, revisions.c.created_at)
                        .where(revisions.c.article_id == article_id).order_by(revisions.c.revision)).mappings()
    return [dict(r, created_at=iso(r["created_at"])) for r in rows]


def _revision_text(row) -> list[str]:
    lines = [f"# {row['title']}", ""] + row["body"].splitlines() + ["", "## References"]
    for ref in row["references"]:
        lines.append(" ".join(str(ref.get(k) or "") for k in ("number", "title", "source", "url", "accessed", "note")).strip())
    return lines


def diff(conn: Connection, article_id: str, start: int, end: int) -> dict:
    """A unified diff of title, body and references between two revisions."""
    import difflib

    found = {r["revision"]: r for r in conn.execute(select(revisions).where(and_(
        revisions.c.article_id == article_id, revisions.c.revision.in_((start, end))))).mappings()}
    for number in (start, end):
        if number not in found:
            raise NotFound(number)
    old, new = found[start], found[end]
    lines = list(difflib.unified_diff(_revision_text(old), _revision_text(new), f"revision {start}",
                                      f"revision {end}", lineterm=""))
    return {"article_id": article_id, "from": start, "to": end, "changed": bool(lines), "diff": "\n".join(lines)}


def overdue_schedules(conn: Connection) -> list[dict]:
    """Scheduled articles more than a minute past their time and not live yet (an alert, not a skip)."""
    cutoff = utcnow() - timedelta(seconds=LATE_AFTER_SECONDS)
    rows = conn.execute(select(articles.c.id, articles.c.title, articles.c.lang, articles.c.state, articles.c.publish_at)
                        .where(and_(articles.c.state.in_((State.SCHEDULED.value, State.PUBLISHING.value)),
                                    articles.c.publish_at.is_not(None), articles.c.publish_at <= cutoff))
                        .order_by(articles.c.publish_at)).mappings()
    return [dict(r) for r in rows]
