"""Validation of article input from the API, the forms and the inbound webhook: clean fields or InvalidInput."""
from __future__ import annotations

import re

from shared.content import parse_references, single_line_problem, text_field
from shared.errors import InvalidInput

MAX_TITLE = 300
MAX_TAGS = 30
MAX_CATEGORIES = 30
MAX_AUTHORS = 20
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _one_author(author, languages: tuple[str, ...], where: str) -> dict:
    if not isinstance(author, dict):
        raise InvalidInput(where, "must be an object such as {\"name\": \"...\", \"bio\": \"...\"}")
    name = text_field(author, "name", required=True, max_len=200, single_line=True, field=f"{where}.name") if "name" in author else None
    if not name:
        raise InvalidInput(f"{where}.name", "is required")
    bio = author.get("bio") or ""
    if not isinstance(bio, str) or len(bio) > 5000:
        raise InvalidInput(f"{where}.bio", "must be a string of at most 5000 characters")
    bio_lang = author.get("bio_lang")
    if bio_lang is not None and bio_lang not in languages:
        raise InvalidInput(f"{where}.bio_lang", f"must be one of {', '.join(languages)}")
    return {"name": name, "bio": bio.strip(), "bio_lang": bio_lang}


def _author(data: dict, languages: tuple[str, ...]) -> dict:
    return _one_author(data.get("author"), languages, "author")


def _authors(data: dict, languages: tuple[str, ...]) -> list[dict]:
    """``authors`` (a list, first = the main author) or, for older clients, ``author`` alone."""
    if "authors" not in data:
        return [_author(data, languages)]
    given = data["authors"]
    if not isinstance(given, list) or not given:
        raise InvalidInput("authors", "must be a non-empty list of {\"name\", \"bio\", \"bio_lang\"} objects, "
                                      "the main author first")
    if len(given) > MAX_AUTHORS:
        raise InvalidInput("authors", f"at most {MAX_AUTHORS} authors")
    cleaned: list[dict] = []
    for i, author in enumerate(given):
        one = _one_author(author, languages, f"authors[{i}]")
        if all(a["name"] != one["name"] for a in cleaned):
            cleaned.append(one)
    if data.get("author") is not None and _author(data, languages)["name"] != cleaned[0]["name"]:
        raise InvalidInput("author", "differs from the first of authors; send authors alone (author is its first entry)")
    return cleaned


def _names(data: dict, field: str, limit: int, max_len: int = 60) -> list[str]:
    """A list of short distinct names (tags, categories), blanks dropped, order kept."""
    values = data.get(field, [])
    if not isinstance(values, list) or not all(isinstance(t, str) for t in values):
        raise InvalidInput(field, "must be a list of strings")
    cleaned = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        if len(value) > max_len:
            raise InvalidInput(field, f"{value[:20]!r}... is longer than {max_len} characters; shorten it")
        if problem := single_line_problem(value):
            raise InvalidInput(field, f"{value[:20]!r} {problem}")
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > limit:
        raise InvalidInput(field, f"at most {limit} {field}; remove {len(cleaned) - limit}")
    return cleaned


def _tags(data: dict) -> list[str]:
    return _names(data, "tags", MAX_TAGS)


def _categories(data: dict) -> list[str]:
    return _names(data, "categories", MAX_CATEGORIES)


def parse_article_input(data: dict, languages: tuple[str, ...], *, max_body: int, allow_empty_body: bool = False) -> dict:
    """Validate a create request; return the clean fields or raise InvalidInput.

    ``allow_empty_body`` is for importers only: an empty WordPress post arrives as a draft to fill in.
    """
    known = {"lang", "title", "body", "author", "authors", "references", "tags", "categories", "group_id",
             "featured_image"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field; known fields are {', '.join(sorted(known))}")
    lang = text_field(data, "lang", required=True, max_len=8)
    if lang not in languages:
        raise InvalidInput("lang", f"{lang!r} is not a site language; use one of {', '.join(languages)}")
    group_id = data.get("group_id")
    if group_id is not None and (not isinstance(group_id, str) or not _UUID_RE.match(group_id)):
        raise InvalidInput("group_id", "must be the UUID of an existing translation group")
    authors = _authors(data, languages)
    return {
        "lang": lang,
        "title": text_field(data, "title", required=True, max_len=MAX_TITLE, single_line=True),
        "body": text_field(data, "body", required=not allow_empty_body, max_len=max_body) or "",
        "author": authors[0],
        "authors": authors,
        "references": parse_references(data.get("references", [])),
        "tags": _tags(data),
        "categories": _categories(data),
        "group_id": group_id,
        # Checked against the media library by the command (it needs the database); absent: none, or the source's.
        **({"featured_image": _featured(data)} if "featured_image" in data else {}),
    }


def parse_article_update(data: dict, languages: tuple[str, ...], *, max_body: int) -> dict:
    """Validate an edit request (any subset of title, body, author or authors, references, tags, categories)."""
    editable = {"title", "body", "author", "authors", "references", "tags", "categories", "featured_image"}
    unknown = sorted(set(data) - editable)
    if unknown:
        raise InvalidInput(unknown[0], f"cannot be edited; editable fields are {', '.join(sorted(editable))}")
    if not data:
        raise InvalidInput("body", "nothing to change; send at least one editable field")
    out = {}
    if "title" in data:
        out["title"] = text_field(data, "title", required=True, max_len=MAX_TITLE, single_line=True)
    if "body" in data:
        out["body"] = text_field(data, "body", required=True, max_len=max_body)
    if "authors" in data:
        out["authors"] = _authors(data, languages)
        out["author"] = out["authors"][0]
    elif "author" in data:
        out["author"] = _author(data, languages)
    if "references" in data:
        out["references"] = parse_references(data.get("references", []))
    if "tags" in data:
        out["tags"] = _tags(data)
    if "categories" in data:
        out["categories"] = _categories(data)
    if "featured_image" in data:
        out["featured_image"] = _featured(data)
    return out


def _featured(data: dict) -> str | None:
    value = data.get("featured_image")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _UUID_RE.match(value):
        raise InvalidInput("featured_image", "must be the id of a media library image (a UUID) or null")
    return value
