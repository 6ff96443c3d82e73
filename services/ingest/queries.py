"""Reads of ingest's articles: one article, its group's source, audit log, revisions, diffs, the API view."""
from __future__ import annotations

import difflib

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from shared.content import page_path
from shared.errors import NotFound
from shared.events import iso
from shared.workflow import State

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
