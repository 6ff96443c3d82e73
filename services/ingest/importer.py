"""Raw page import: turn a page copied from the think tank's site (or its HTML) into a draft article.

The parsing lives in ``pages`` (text), ``html_import`` (HTML) and ``language`` (detection); this
module keeps the names other code imports and stores a parsed page through the same
``articles.create_article`` path as ``POST /api/articles``, guarding against importing a page twice.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.engine import Connection

from shared.events import utcnow

from . import articles as svc
from .db import article_imports
from .language import LANGUAGE_NAMES, detect_language, parse_language_line
from .pages import (
    MAX_NAME_WORDS, MIN_BODY_WORDS, UNKNOWN_AUTHOR, ImportedPage, NotAnArticle, parse_access_date, parse_page,
    parse_reference, roman_to_int,
)

__all__ = ["LANGUAGE_NAMES", "MAX_NAME_WORDS", "MIN_BODY_WORDS", "UNKNOWN_AUTHOR", "ImportedPage", "NotAnArticle",
           "create_from_page", "detect_language", "existing_import", "import_key", "parse_access_date",
           "parse_language_line", "parse_page", "parse_reference", "roman_to_int"]


def create_from_page(conn: Connection, text: str, page: ImportedPage, *, group_id: str | None,
                     languages: tuple[str, ...], max_body: int, actor: str,
                     correlation_id: str | None = None) -> dict:
    """Validate ``page`` like a create request, store it as a draft and record where it came from."""
    fields = svc.parse_article_input(page.article_input(group_id), languages, max_body=max_body)
    article = svc.create_article(conn, fields, actor=actor, correlation_id=correlation_id)
    conn.execute(article_imports.insert().values(
        article_id=article["id"], original_languages=page.original_languages, language_line=page.language_line,
        warnings=page.warnings, page_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        imported_at=utcnow(),
    ))
    return article
