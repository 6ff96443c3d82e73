"""Raw page import: turn a page copied from the think tank's site (or its HTML) into a draft article.

The parsing lives in ``pages`` (text), ``html_import`` (HTML) and ``language`` (detection); this
module keeps the names other code imports and stores a parsed page through the same
``commands.create_article`` path as ``POST /api/articles``, guarding against importing a page twice.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.engine import Connection

from shared.events import utcnow

from shared.errors import InvalidInput

from .commands import create_article, update_article
from .db import article_imports, articles
from .language import LANGUAGE_NAMES, detect_language, parse_language_line
from .queries import get_article
from .validation import parse_article_input, parse_article_update
from .pages import (
    MAX_NAME_WORDS, MIN_BODY_WORDS, UNKNOWN_AUTHOR, ImportedPage, NotAnArticle, parse_access_date, parse_page,
    parse_reference, roman_to_int,
)

__all__ = ["LANGUAGE_NAMES", "MAX_NAME_WORDS", "MIN_BODY_WORDS", "ON_DUPLICATE", "UNKNOWN_AUTHOR", "ImportedPage",
           "NotAnArticle", "create_from_page", "detect_language", "existing_import", "import_key", "import_page",
           "normalise_url", "parse_access_date", "parse_any", "parse_language_line", "parse_page", "parse_reference",
           "roman_to_int"]


ON_DUPLICATE = ("answer", "revise")
_TRACKING = re.compile(r"^(?:utm_|fbclid|gclid|ref$)")


def parse_any(text: str, *, lang: str | None, languages: tuple[str, ...], html: bool | None = None) -> ImportedPage:
    """Parse a page given as text or HTML (``html=None``: tell from the text itself)."""
    from . import html_import  # trafilatura is only loaded when an HTML page arrives

    if html or (html is None and html_import.looks_like_html(text)):
        return html_import.parse_html(text, lang=lang, languages=languages)
    return parse_page(text, lang=lang, languages=languages)


def normalise_url(url: str) -> str:
    """A page URL without scheme differences, "www.", tracking parameters, fragment or trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = "&".join(q for q in parts.query.split("&") if q and not _TRACKING.match(q.split("=")[0].lower()))
    return urlunsplit(("https", host, parts.path.rstrip("/") or "/", query, ""))


def _normalised_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def import_key(page: ImportedPage) -> str:
    """The duplicate key of a page: its source URL when it carries one, else title, language and body."""
    if page.source_url:
        basis = "url\n" + normalise_url(page.source_url)
    else:
        basis = "\n".join(("page", page.lang, _normalised_text(page.title), _normalised_text(page.body)))
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def existing_import(conn: Connection, page: ImportedPage) -> tuple[str, str] | None:
    """(article id, how it matched) of an earlier import of the same page, or None."""
    row = conn.execute(select(article_imports.c.article_id).where(article_imports.c.import_key == import_key(page))).first()
    if row:
        return row[0], "the same source URL" if page.source_url else "the same title, language and text"
    row = conn.execute(
        select(article_imports.c.article_id).join(articles, articles.c.id == article_imports.c.article_id)
        .where(articles.c.lang == page.lang, articles.c.title == page.title)
        .order_by(article_imports.c.imported_at.desc())).first()
    return (row[0], "the same title and language") if row else None


def import_page(conn: Connection, text: str, page: ImportedPage, *, on_duplicate: str | None, group_id: str | None,
                languages: tuple[str, ...], max_body: int, actor: str, role: str) -> tuple[dict, dict]:
    """Store ``page``: a new draft, or for a page imported before the existing article (or, with
    ``on_duplicate="revise"``, a new revision of it). Returns (article, what happened)."""
    if on_duplicate not in (None, "", *ON_DUPLICATE):
        raise InvalidInput("on_duplicate", f"{on_duplicate!r} is not an option; leave it out to get the "
                                               "existing article back, or pass on_duplicate=revise")
    found = existing_import(conn, page)
    if found is None:
        article = create_from_page(conn, text, page, group_id=group_id, languages=languages, max_body=max_body,
                                   actor=actor, role=role)
        return article, {"outcome": "created"}
    article_id, matched = found
    if on_duplicate != "revise":
        article = get_article(conn, article_id)
        return article, {"outcome": "duplicate", "duplicate_of": article_id, "matched_by": matched,
                         "note": f"this page was imported before as article {article_id} (matched by {matched}); "
                                 "nothing was created. Pass on_duplicate=revise to save it as a new revision"}
    changes = parse_article_update({k: v for k, v in page.article_input().items()
                                        if k in ("title", "body", "author", "references")},
                                       languages, max_body=max_body)
    before = get_article(conn, article_id)["revision"]
    article = update_article(conn, article_id, changes, actor=actor, role=role)
    conn.execute(article_imports.update().where(article_imports.c.article_id == article_id).values(
        warnings=page.warnings, page_sha256=_sha256(text), import_key=import_key(page),
        source_url=page.source_url, imported_at=utcnow()))
    revised = article["revision"] != before
    return article, {"outcome": "revised" if revised else "unchanged", "duplicate_of": article_id,
                     "matched_by": matched,
                     "note": (f"saved as revision {article['revision']} of article {article_id}" if revised else
                              f"article {article_id} already holds this text; no new revision")}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create_from_page(conn: Connection, text: str, page: ImportedPage, *, group_id: str | None,
                     languages: tuple[str, ...], max_body: int, actor: str, role: str | None = None) -> dict:
    """Validate ``page`` like a create request, store it as a draft and record where it came from."""
    fields = parse_article_input(page.article_input(group_id), languages, max_body=max_body)
    article = create_article(conn, fields, actor=actor, role=role)
    conn.execute(article_imports.insert().values(
        article_id=article["id"], original_languages=page.original_languages, language_line=page.language_line,
        warnings=page.warnings, page_sha256=_sha256(text), imported_at=utcnow(),
        import_key=import_key(page), source_url=page.source_url,
    ))
    return article
