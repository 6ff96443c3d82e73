"""Reads of ingest's articles: one article, its group's source, audit log, revisions, diffs, the API view."""
from __future__ import annotations

import base64
import binascii
import difflib
import json
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from shared.content import page_path
from shared.errors import InvalidInput, NotFound
from shared.events import iso
from shared.workflow import State

from . import search
from .db import articles, audit_log, revisions, translation_assignments, users


def with_lists(article: dict) -> dict:
    """The row with ``authors`` and ``categories`` filled in for rows stored before those columns."""
    article["authors"] = article.get("authors") or [article["author"]]
    article["categories"] = article.get("categories") or []
    return article


def get_article(conn: Connection, article_id: str) -> dict:
    """One article as a dict, or NotFound."""
    row = conn.execute(select(articles).where(articles.c.id == article_id)).mappings().first()
    if row is None:
        raise NotFound(f"no article with id {article_id}")
    return with_lists(dict(row))


def source_lang(conn: Connection, group_id: str) -> str | None:
    row = conn.execute(
        select(articles.c.lang).where(and_(articles.c.group_id == group_id, articles.c.is_source.is_(True)))
    ).first()
    return row[0] if row else None


def source_article(conn: Connection, group_id: str) -> dict | None:
    row = conn.execute(select(articles).where(
        and_(articles.c.group_id == group_id, articles.c.is_source.is_(True)))).mappings().first()
    return with_lists(dict(row)) if row else None


def source_revision(conn: Connection, group_id: str, source_hash: str | None) -> int | None:
    """The source revision whose content a translation was made from (by content hash)."""
    source = source_article(conn, group_id)
    if source is None or not source_hash:
        return None
    return conn.execute(select(func.max(revisions.c.revision)).where(and_(
        revisions.c.article_id == source["id"], revisions.c.content_hash == source_hash))).scalar()


def is_assigned(conn: Connection, group_id: str, lang: str, translator: str) -> bool:
    """Whether the ``lang`` translation of the group is assigned to ``translator`` (an email)."""
    row = conn.execute(select(translation_assignments.c.translator).where(and_(
        translation_assignments.c.group_id == group_id, translation_assignments.c.lang == lang))).first()
    return row is not None and row[0].lower() == translator.lower()


def editor_recipients(conn: Connection) -> list[dict]:
    """Every editor and admin, as email recipients in their own language."""
    rows = conn.execute(select(users.c.email, users.c.lang).where(users.c.role.in_(("editor", "admin"))))
    return [{"email": email, "lang": lang or "en"} for email, lang in rows]


def published_translations(conn: Connection, group_id: str, site_url: str) -> dict[str, str]:
    """lang -> public URL of every published version of the group."""
    rows = conn.execute(
        select(articles.c.lang, articles.c.slug).where(
            and_(articles.c.group_id == group_id, articles.c.state == State.PUBLISHED.value)
        )
    ).all()
    return {lang: site_url + page_path(lang, slug) for lang, slug in rows}


def audit_entries(conn: Connection, article_id: str) -> list[dict]:
    """The article's audit log, oldest first."""
    rows = conn.execute(select(audit_log).where(audit_log.c.article_id == article_id).order_by(audit_log.c.id))
    return [dict(r) for r in rows.mappings()]


LIST_FILTERS = ("state", "lang", "group_id", "author", "q")
_AUTHOR_BATCH = 500


def encode_cursor(sort_value: datetime, article_id: str) -> str:
    """An opaque cursor: the position after the row sorted at (``sort_value``, ``article_id``)."""
    raw = json.dumps([sort_value.isoformat(), article_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names, or InvalidInput naming ``cursor``."""
    try:
        value, article_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(value), str(article_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor", "is not a cursor this list gave out; start again without it "
                                     "and follow next_cursor")


def _with_authors(article: dict) -> list[dict]:
    return article.get("authors") or [article["author"]]


def page_articles(conn: Connection, columns: list, *, order: str, filters: dict, limit: int,
                  cursor: str | None, languages: list[str]) -> tuple[list[dict], str | None]:
    """One page of articles, newest first by ``order`` (``created_at`` or ``updated_at``, ties by id),
    filtered by ``filters`` (state, lang, group_id exactly; author by part of a name; q by the search
    index); and the cursor of the next page (None on the last). Keyset paging: rows created while
    someone pages sort before the cursor, so a walk through the list never skips or repeats one."""
    sort = articles.c[order]
    query = select(*columns).order_by(sort.desc(), articles.c.id.desc())
    for name in ("state", "lang", "group_id"):
        if filters.get(name):
            query = query.where(articles.c[name] == filters[name])
    if filters.get("q"):
        ids = search.matching_ids(conn, filters["q"], languages)
        if ids is not None:
            query = query.where(articles.c.id.in_(ids))
    wanted = (filters.get("author") or "").lower()
    position = decode_cursor(cursor) if cursor else None
    found: list[dict] = []
    while len(found) <= limit:
        step = query
        if position is not None:
            value, article_id = position
            step = step.where(or_(sort < value, and_(sort == value, articles.c.id < article_id)))
        # Without an author filter one read fills the page; with one (a JSON column, matched here
        # the same way on SQLite and PostgreSQL) reads go on until the page is full.
        size = limit + 1 if not wanted else _AUTHOR_BATCH
        batch = [dict(r) for r in conn.execute(step.limit(size)).mappings()]
        for row in batch:
            if not wanted or any(wanted in (a.get("name") or "").lower() for a in _with_authors(row)):
                found.append(row)
                if len(found) > limit:
                    break
        if len(batch) < size or not batch:
            break
        position = (batch[-1][order], batch[-1]["id"])
    rows = found[:limit]
    after = encode_cursor(rows[-1][order], rows[-1]["id"]) if len(found) > limit else None
    return rows, after


def to_json(article: dict) -> dict:
    """The API representation of an article."""
    out = with_lists({k: v for k, v in article.items() if k not in ("body_html",)})
    for key in ("created_at", "updated_at", "published_at", "publish_at"):
        if out.get(key) is not None:
            out[key] = iso(out[key])
    out["is_source"] = bool(out["is_source"])
    return out


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
    found = {r["revision"]: r for r in conn.execute(select(revisions).where(and_(
        revisions.c.article_id == article_id, revisions.c.revision.in_((start, end))))).mappings()}
    for number in (start, end):
        if number not in found:
            raise NotFound(f"no revision {number} of article {article_id}")
    old, new = found[start], found[end]
    lines = list(difflib.unified_diff(_revision_text(old), _revision_text(new), f"revision {start}",
                                      f"revision {end}", lineterm=""))
    return {"article_id": article_id, "from": start, "to": end, "changed": bool(lines), "diff": "\n".join(lines)}
