"""The public site's search: an index of live pages per language, and the queries of ``/<lang>/search``.

The index is written in the transaction of the flush that renders a page (``site.flush``) and its
row deleted in the one that removes it, so search never finds a page the site does not show. Title
ranks above tags and categories, which rank above the body:

- SQLite: FTS5 weights its columns 10, 5 and 1 with ``bm25`` (equal scores: the page indexed last
  first). Each page's language is a column of the FTS table, so filtering, counting and ranking
  stay inside FTS5.
- PostgreSQL: ``ts_rank`` weighs the title A and the tags B over ``head``, a small vector of those
  two alone; a word found only in the body makes a match but adds no rank, and pages that rank
  equally come newest first. Ranking by the whole document read a large vector per match, too
  slow for a common word at 30,000 pages.

Stems and lower-casing come from ``shared.search`` (Turkish dotted and dotless i included).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection

from shared import search as fts
from shared.events import aware

from . import similar
from .db import pages, search_docs

PAGE_SIZE = 10
MAX_PAGE = 100  # deeper pages are refused (readers refine the query; crawlers do not page for ever)
_BM25_WEIGHTS = "10.0, 5.0, 1.0, 0.0"  # title, tags and categories, body, language (a filter only)
_MARKER = re.compile(r"\[(?:\d{1,3}|[ivxlc]{1,8})\]")  # footnote markers: not words, not in snippets


@dataclass
class Hit:
    """One result: the page's address, title and body excerpt (both highlighted, escaped), date."""
    article_id: str
    lang: str
    slug: str
    title: Markup
    snippet: Markup
    published_at: datetime


@dataclass
class Results:
    """One page of results and how many pages match in all."""
    total: int
    hits: list[Hit]


def plain_text(body_html: str) -> str:
    """The visible text of body HTML, footnote markers dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_MARKER.sub("", similar.text_of(body_html))).split())


def _sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def unindex(conn: Connection, article_id: str) -> None:
    """Take a page out of the index (nothing when it was not in it)."""
    row = conn.execute(select(search_docs.c.id).where(search_docs.c.article_id == article_id)).first()
    if row is None:
        return
    if _sqlite(conn):
        conn.execute(text("DELETE FROM search_fts WHERE rowid = :id"), {"id": row.id})
    conn.execute(delete(search_docs).where(search_docs.c.id == row.id))


def index_page(conn: Connection, snapshot: dict) -> None:
    """Put a published snapshot in the index, replacing the page's previous revision."""
    unindex(conn, snapshot["article_id"])
    lang = snapshot["lang"]
    title = snapshot["title"]
    tags = " · ".join(list(snapshot.get("tags") or []) + list(snapshot.get("categories") or []))
    body = plain_text(snapshot.get("body_html") or "")
    doc_id = conn.execute(search_docs.insert().values(
        article_id=snapshot["article_id"], lang=lang, title=title, tags=tags, body=body,
        published_at=datetime.fromisoformat(snapshot["published_at"]),
    ).returning(search_docs.c.id)).scalar_one()
    if _sqlite(conn):
        conn.execute(text("INSERT INTO search_fts (rowid, title, tags, body, lang) "
                          "VALUES (:id, :title, :tags, :body, :lang)"),
                     {"id": doc_id, "lang": lang, "title": " ".join(fts.stems(title, lang)),
                      "tags": " ".join(fts.stems(tags, lang)), "body": " ".join(fts.stems(body, lang))})
    else:
        conn.execute(text(
            "UPDATE search_docs SET head = v.head, "
            "document = v.head || setweight(to_tsvector(CAST(:cfg AS regconfig), :body), 'D') "
            "FROM (SELECT setweight(to_tsvector(CAST(:cfg AS regconfig), :title), 'A') || "
            "setweight(to_tsvector(CAST(:cfg AS regconfig), :tags), 'B') AS head) AS v WHERE id = :id"),
            {"cfg": fts.pg_config(lang), "id": doc_id, "title": fts.lower(title, lang),
             "tags": fts.lower(tags, lang), "body": fts.lower(body, lang)})


def fill_missing(conn: Connection) -> int:
    """Index the live pages the index lacks (pages published before search existed); return how many."""
    rows = conn.execute(
        select(pages.c.snapshot)
        .select_from(pages.outerjoin(search_docs, search_docs.c.article_id == pages.c.article_id))
        .where(search_docs.c.id.is_(None))).all()
    for r in rows:
        index_page(conn, r.snapshot)
    return len(rows)


def _matches_sqlite(conn: Connection, lang: str, query: str, limit: int, offset: int) -> tuple[int, list]:
    words = fts.fts5_query(query, [lang])
    if words is None:
        return 0, []
    # The language is a column of the FTS table, so FTS5 filters by it while it walks its own
    # lists: the count never leaves the index and the ranking reads no other table. The words are
    # confined to the text columns (a word such as "en" must not match the language column).
    quoted_lang = lang.replace('"', '""')
    match = f'lang : "{quoted_lang}" AND {{title tags body}} : ({words})'
    params = {"match": match, "limit": limit, "offset": offset}
    total = conn.execute(text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :match"), params).scalar_one()
    if not total or offset >= total:
        return total, []
    ids = conn.execute(text(
        f"SELECT rowid FROM search_fts WHERE search_fts MATCH :match "
        f"ORDER BY bm25(search_fts, {_BM25_WEIGHTS}), rowid DESC LIMIT :limit OFFSET :offset"), params).scalars().all()
    article_of = dict(conn.execute(select(search_docs.c.id, search_docs.c.article_id)
                                   .where(search_docs.c.id.in_(ids))).all())
    return total, [article_of[i] for i in ids if i in article_of]


def _matches_postgres(conn: Connection, lang: str, query: str, limit: int, offset: int) -> tuple[int, list]:
    words = fts.pg_query_text(query, lang)
    if not words:
        return 0, []
    params = {"cfg": fts.pg_config(lang), "q": words, "lang": lang, "limit": limit, "offset": offset}
    base = ("FROM search_docs d, websearch_to_tsquery(CAST(:cfg AS regconfig), :q) AS query "
            "WHERE d.lang = :lang AND d.document @@ query")
    # The GIN index finds and counts the matches without reading ``document``; the ranking reads
    # only the small ``head`` (title and tags) of each. Ranking by the whole document read a
    # 3-10 kB tsvector per match: 200-450 ms for a common word at 30,000 pages.
    total = conn.execute(text(f"SELECT count(*) {base}"), params).scalar_one()
    if not total or offset >= total:
        return total, []
    rows = conn.execute(text(
        f"SELECT d.article_id {base} "
        "ORDER BY coalesce(ts_rank(d.head, query), 0) DESC, d.published_at DESC, d.article_id "
        "LIMIT :limit OFFSET :offset"), params).scalars().all()
    return total, list(rows)


def search(conn: Connection, lang: str, query: str, page: int = 1, per_page: int = PAGE_SIZE) -> Results:
    """Page ``page`` (from 1) of the live pages in ``lang`` matching every word of ``query``, best first."""
    finder = _matches_sqlite if _sqlite(conn) else _matches_postgres
    total, ids = finder(conn, lang, query, per_page, (page - 1) * per_page)
    if not ids:
        return Results(total, [])
    found = {r.article_id: r for r in conn.execute(
        select(search_docs.c.article_id, search_docs.c.title, search_docs.c.body, search_docs.c.published_at,
               pages.c.slug, pages.c.lang)
        .select_from(search_docs.join(pages, pages.c.article_id == search_docs.c.article_id))
        .where(search_docs.c.article_id.in_(ids)))}
    hits = [Hit(article_id=i, lang=found[i].lang, slug=found[i].slug,
                title=fts.highlight(found[i].title, query, lang, window=200),
                snippet=fts.highlight(found[i].body, query, lang),
                published_at=aware(found[i].published_at)) for i in ids if i in found]
    return Results(total, hits)
