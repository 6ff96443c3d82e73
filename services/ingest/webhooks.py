"""Signed inbound webhooks of ingest: partner systems push articles to ``POST /webhooks/articles``.

Signatures, the 5-minute window and the 7-day dedupe of ``webhook-id`` are ``shared.signed``'s
(one check for every receiving endpoint). The payload ``{"type": "article.upsert", "data": {"external_id": ..., <article
fields>}}`` creates the article, or edits it (a new revision) when the partner's id is known.
"""
from __future__ import annotations

import re
from typing import Literal

from flask import Blueprint, jsonify, request
from pydantic import Field
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from shared.errors import InvalidInput
from shared.events import utcnow
from shared.openapi import Answer, Body, operation, validate
from shared.runtime import Runtime, runtime
from shared.signed import SIGNATURE_HEADERS, json_object, receive_once, signed_endpoint
from shared.workflow import Role

from .commands import create_article, update_article
from .db import external_refs, inbound_webhooks
from .api import Article, NewArticle
from .queries import get_article, to_json
from .validation import parse_article_input

bp = Blueprint("ingest_inbound", __name__, url_prefix="/webhooks")

DEFAULT_SOURCE = "partner"
EVENT_TYPES = ("article.upsert",)
_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")


class PartnerArticle(NewArticle):
    """A partner's article: the fields of a new article, with the partner's own id for it."""

    external_id: str = Field(min_length=1, max_length=200, description="your system's id for the article")
    source: str = Field(DEFAULT_SOURCE, pattern=_SOURCE_RE.pattern, description="your system's short name")


class ArticleUpsert(Body):
    """A signed ``article.upsert``: create the article, or edit it when its ``external_id`` is known."""

    type: Literal[EVENT_TYPES]
    data: PartnerArticle
    timestamp: str | int | None = None


class UpsertAnswer(Answer):
    """What the webhook did."""

    action: Literal["created", "updated"]
    external_id: str
    article: Article


def parse_payload(text: str) -> tuple[str, str, dict]:
    """(source, external_id, article fields) of an ``article.upsert`` body; InvalidInput names the field."""
    payload = json_object(text)
    unknown = sorted(set(payload) - {"type", "data", "timestamp"})
    if unknown:
        raise InvalidInput(unknown[0], "unknown field; the payload has type, data and optionally timestamp")
    if payload.get("type") not in EVENT_TYPES:
        raise InvalidInput("type", f"must be one of {', '.join(EVENT_TYPES)}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("data", "must be an object with external_id and the article fields")
    data = dict(data)
    external_id = data.pop("external_id", None)
    if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > 200:
        raise InvalidInput("data.external_id", "must be your system's id for the article (1-200 characters)")
    source = data.pop("source", DEFAULT_SOURCE)
    if not isinstance(source, str) or not _SOURCE_RE.match(source):
        raise InvalidInput("data.source", "must be a short lower-case name such as 'partner' (a-z, 0-9, _ . -)")
    return source, external_id.strip(), data


def upsert(conn: Connection, source: str, external_id: str, data: dict, *, languages: tuple[str, ...],
           max_body: int) -> tuple[str, dict]:
    """Create the article for (source, external_id), or edit it as a new revision; ("created"|"updated", article)."""
    try:
        fields = parse_article_input(data, languages, max_body=max_body)
    except InvalidInput as exc:
        raise InvalidInput(f"data.{exc.field}", exc.message) from exc
    actor = f"webhook:{source}"
    known = conn.execute(select(external_refs.c.article_id).where(and_(
        external_refs.c.source == source, external_refs.c.external_id == external_id))).first()
    if known is None:
        article = create_article(conn, fields, actor=actor, role=Role.PARTNER)
        conn.execute(external_refs.insert().values(source=source, external_id=external_id,
                                                   article_id=article["id"], created_at=utcnow()))
        return "created", article
    current = get_article(conn, known[0])
    if fields["lang"] != current["lang"]:
        raise InvalidInput("data.lang", f"article {external_id!r} is in {current['lang']!r}; a language "
                                            "cannot change (send a translation with its own external_id)")
    if fields["group_id"] not in (None, current["group_id"]):
        raise InvalidInput("data.group_id", f"article {external_id!r} belongs to group {current['group_id']}; "
                                                "leave group_id out or send that one")
    changes = {k: fields[k] for k in ("title", "body", "author", "authors", "references", "tags", "categories")}
    return "updated", update_article(conn, current["id"], changes, actor=actor, role=Role.PARTNER)


def receive(rt: Runtime, raw: bytes, headers: dict) -> tuple[int, dict]:
    """Verify, deduplicate and apply one inbound webhook; (status, answer)."""

    def handle(conn, text: str) -> tuple[int, dict]:
        source, external_id, data = parse_payload(text)
        validate(ArticleUpsert, json_object(text))  # the declared contract, after the envelope's own messages
        action, article = upsert(conn, source, external_id, data, languages=rt.settings.languages,
                                 max_body=rt.settings.max_body_bytes)
        webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        return (201 if action == "created" else 200), {
            "action": action, "source": source, "external_id": external_id, "webhook_id": webhook_id,
            "article": to_json(article)}

    return receive_once(rt, inbound_webhooks, raw, headers, handle)


@bp.post("/articles")
@signed_endpoint
@operation(body=ArticleUpsert, check_body=False, headers=SIGNATURE_HEADERS, responses={200: UpsertAnswer, 201: UpsertAnswer})
def receive_article():
    """A partner's signed ``article.upsert``: 201 created, 200 updated, the first answer for a retry."""
    status, answer = receive(runtime(), request.get_data(cache=True), dict(request.headers))
    return jsonify(answer), status
