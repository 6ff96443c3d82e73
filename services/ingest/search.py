"""The editors' search: every article's title, authors, reference titles and body, stemmed in its language.

Written in the transaction of every create and edit (``commands.py``). A query matches an article
when every word of it matches, stemmed in any of the site's languages (editors search across
languages); the list stays in its own order (newest first) so it pages stably. Same engines as the
public search (``shared.search``): a tsvector per article on PostgreSQL, FTS5 of snowball stems on SQLite.
"""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from shared import search as fts

from .db import article_search


def _dicts(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def article_text(article: dict) -> str:
    """What the editors' search looks in: title, author names, reference titles and sources, body.

    Tolerant of stored shapes (rows written by older releases index what they hold)."""
    authors = _dicts(article.get("authors")) or _dicts([article.get("author")])
    parts = [article.get("title") or ""]
    parts += [str(a.get("name") or "") for a in authors]
    parts += [f"{r.get('title') or ''} {r.get('source') or ''}" for r in _dicts(article.get("references"))]
    parts.append(article.get("body") or "")
    return "\n".join(parts)


def index_article(conn: Connection, article: dict) -> None:
    """Put the article's current revision in the index (replacing what was there)."""
    lang, content = article["lang"], article_text(article)
    row = conn.execute(select(article_search.c.id).where(article_search.c.article_id == article["id"])).first()
    sqlite = conn.dialect.name == "sqlite"
    if row is None:
        doc_id = conn.execute(article_search.insert().values(article_id=article["id"])
                              .returning(article_search.c.id)).scalar_one()
    else:
        doc_id = row.id
        if sqlite:
            conn.execute(text("DELETE FROM article_search_fts WHERE rowid = :id"), {"id": doc_id})
    if sqlite:
        conn.execute(text("INSERT INTO article_search_fts (rowid, content) VALUES (:id, :content)"),
                     {"id": doc_id, "content": " ".join(fts.stems(content, lang))})
    else:
        conn.execute(text("UPDATE article_search SET document = to_tsvector(CAST(:cfg AS regconfig), :content) "
                          "WHERE id = :id"), {"cfg": fts.pg_config(lang), "content": fts.lower(content, lang),
                                              "id": doc_id})


def matching_ids(conn: Connection, query: str, languages: list[str]):
    """A subquery of the ids of the articles matching every word of ``query`` (None: nothing to search for)."""
    if conn.dialect.name == "sqlite":
        match = fts.fts5_query(query, languages)
        if match is None:
            return None
        return text("SELECT s.article_id FROM article_search_fts f JOIN article_search s ON s.id = f.rowid "
                    "WHERE article_search_fts MATCH :match").bindparams(match=match).columns(article_search.c.article_id)
    words = {f"q{i}": fts.pg_query_text(query, lang) for i, lang in enumerate(languages)}
    if not any(words.values()):
        return None
    # One tsquery per language, ORed: the whole query in English, or in Turkish, or in Russian.
    tsquery = " || ".join(f"websearch_to_tsquery(CAST(:cfg{i} AS regconfig), :q{i})" for i in range(len(languages)))
    params = dict(words, **{f"cfg{i}": fts.pg_config(lang) for i, lang in enumerate(languages)})
    return text(f"SELECT article_id FROM article_search WHERE document @@ ({tsquery})").bindparams(
        **params).columns(article_search.c.article_id)
