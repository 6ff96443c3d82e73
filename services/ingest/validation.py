"""Validation of article input from the API, the forms and the inbound webhook: clean fields or InvalidInput."""
from __future__ import annotations

import re

from shared.content import parse_references, single_line_problem, text_field
from shared.errors import InvalidInput

MAX_TITLE = 300
MAX_TAGS = 30
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")



def _author(data: dict, languages: tuple[str, ...]) -> dict:
    author = data.get("author")
    if not isinstance(author, dict):
        raise InvalidInput("author", "must be an object such as {\"name\": \"...\", \"bio\": \"...\"}")
    name = text_field(author, "name", required=True, max_len=200, single_line=True, field="author.name") if "name" in author else None
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
        if problem := single_line_problem(tag):
            raise InvalidInput("tags", f"tag {tag[:20]!r} {problem}")
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
        "title": text_field(data, "title", required=True, max_len=MAX_TITLE, single_line=True),
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
        out["title"] = text_field(data, "title", required=True, max_len=MAX_TITLE, single_line=True)
    if "body" in data:
        out["body"] = text_field(data, "body", required=True, max_len=max_body)
    if "author" in data:
        out["author"] = _author(data, languages)
    if "references" in data:
        out["references"] = parse_references(data.get("references", []))
    if "tags" in data:
        out["tags"] = _tags(data)
    return out
