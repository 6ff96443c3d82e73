"""Signed inbound webhooks: partner systems push articles to ``POST /webhooks/articles``.

Requests are signed with Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``) using ``INBOUND_WEBHOOK_SECRET`` and verified on the raw body with the
``standardwebhooks`` library (timestamps within 5 minutes). A processed ``webhook-id`` is kept for
7 days with its answer, so a retry (same id, fresh timestamp) changes nothing and answers the first
answer again. The payload ``{"type": "article.upsert", "data": {"external_id": ..., <article
fields>}}`` creates the article, or edits it (a new revision) when the partner's id is known.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import timedelta

from flask import Blueprint, g, jsonify, request
from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.events import utcnow
from shared.runtime import Runtime, runtime
from shared.web import ApiError

from . import articles as svc
from .db import external_refs, inbound_webhooks

bp = Blueprint("ingest_inbound", __name__, url_prefix="/webhooks")

RETENTION = timedelta(days=7)
TOLERANCE_MINUTES = 5  # the standardwebhooks library's fixed window
DEFAULT_SOURCE = "partner"
EVENT_TYPES = ("article.upsert",)
_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")
_SIGNATURE_RE = re.compile(r"^v1[a-z]?,[A-Za-z0-9+/]+={0,2}$")


class SignatureRejected(Exception):
    """The request is unsigned, stale or tampered with (HTTP 401); ``field`` names the header."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class MalformedPayload(Exception):
    """The signed body is not UTF-8 JSON (HTTP 400)."""


class WebhookIdReused(Exception):
    """A processed ``webhook-id`` came back with a different body (HTTP 409)."""


def verify(secret: str, raw: bytes, headers: dict) -> str:
    """The body as text when its Standard Webhooks signature verifies; SignatureRejected otherwise."""
    headers = {k.lower(): v for k, v in headers.items()}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if not headers.get(name, "").strip():
            raise SignatureRejected(name, "header missing; sign the request with Standard Webhooks "
                                          "(webhook-id, webhook-timestamp, webhook-signature)")
    webhook_id = headers["webhook-id"]
    if len(webhook_id) > 200 or not webhook_id.isascii() or not webhook_id.isprintable():
        raise SignatureRejected("webhook-id", "must be at most 200 printable ASCII characters")
    if not re.fullmatch(r"\d{1,12}", headers["webhook-timestamp"].strip()):
        raise SignatureRejected("webhook-timestamp", "must be the signing time in whole Unix seconds")
    tokens = headers["webhook-signature"].split()
    if not tokens or not all(_SIGNATURE_RE.match(t) and _valid_base64(t.split(",", 1)[1]) for t in tokens):
        raise SignatureRejected("webhook-signature", "malformed; expected space-separated 'v1,<base64 HMAC-SHA256>'")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"the body is not UTF-8 (byte {exc.start})") from exc
    checker = Webhook(secret)  # outside the try below: a bad secret is a server fault, not a 401
    try:
        checker.verify(text, headers, json_parse=False)
    except WebhookVerificationError as exc:
        if "timestamp" in str(exc).lower():
            raise SignatureRejected("webhook-timestamp", f"{exc}: it must be within {TOLERANCE_MINUTES} minutes "
                                                         "of the server's clock; sign with the current time") from exc
        raise SignatureRejected("webhook-signature", f"{exc}: sign '<webhook-id>.<webhook-timestamp>.<body>' "
                                                     "with the shared INBOUND_WEBHOOK_SECRET") from exc
    return text


def _valid_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return True


def parse_payload(text: str) -> tuple[str, str, dict]:
    """(source, external_id, article fields) of an ``article.upsert`` body; InvalidInput names the field."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedPayload(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise MalformedPayload("the JSON is nested too deeply; send a flat object") from exc
    if not isinstance(payload, dict):
        raise svc.InvalidInput("body", "must be a JSON object {\"type\": \"article.upsert\", \"data\": {...}}")
    unknown = sorted(set(payload) - {"type", "data", "timestamp"})
    if unknown:
        raise svc.InvalidInput(unknown[0], "unknown field; the payload has type, data and optionally timestamp")
    if payload.get("type") not in EVENT_TYPES:
        raise svc.InvalidInput("type", f"must be one of {', '.join(EVENT_TYPES)}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise svc.InvalidInput("data", "must be an object with external_id and the article fields")
    data = dict(data)
    external_id = data.pop("external_id", None)
    if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > 200:
        raise svc.InvalidInput("data.external_id", "must be your system's id for the article (1-200 characters)")
    source = data.pop("source", DEFAULT_SOURCE)
    if not isinstance(source, str) or not _SOURCE_RE.match(source):
        raise svc.InvalidInput("data.source", "must be a short lower-case name such as 'partner' (a-z, 0-9, _ . -)")
    return source, external_id.strip(), data


def upsert(conn: Connection, source: str, external_id: str, data: dict, *, languages: tuple[str, ...],
           max_body: int, correlation_id: str | None = None) -> tuple[str, dict]:
    """Create the article for (source, external_id), or edit it as a new revision; ("created"|"updated", article)."""
    try:
        fields = svc.parse_article_input(data, languages, max_body=max_body)
    except svc.InvalidInput as exc:
        raise svc.InvalidInput(f"data.{exc.field}", exc.message) from exc
    actor = f"webhook:{source}"
    known = conn.execute(select(external_refs.c.article_id).where(and_(
        external_refs.c.source == source, external_refs.c.external_id == external_id))).first()
    if known is None:
        article = svc.create_article(conn, fields, actor=actor, correlation_id=correlation_id)
        conn.execute(external_refs.insert().values(source=source, external_id=external_id,
                                                   article_id=article["id"], created_at=utcnow()))
        return "created", article
    current = svc.get_article(conn, known[0])
    if fields["lang"] != current["lang"]:
        raise svc.InvalidInput("data.lang", f"article {external_id!r} is in {current['lang']!r}; a language "
                                            "cannot change (send a translation with its own external_id)")
    if fields["group_id"] not in (None, current["group_id"]):
        raise svc.InvalidInput("data.group_id", f"article {external_id!r} belongs to group {current['group_id']}; "
                                                "leave group_id out or send that one")
    changes = {k: fields[k] for k in ("title", "body", "author", "references", "tags")}
    return "updated", svc.update_article(conn, current["id"], changes, actor=actor, correlation_id=correlation_id)


def stored_answer(conn: Connection, webhook_id: str, request_hash: str) -> tuple[int, dict] | None:
    """The first answer to ``webhook_id``, None when it is new; WebhookIdReused for another body."""
    row = conn.execute(select(inbound_webhooks).where(inbound_webhooks.c.webhook_id == webhook_id)).mappings().first()
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        raise WebhookIdReused(f"webhook-id {webhook_id!r} was already used for a different body; "
                              "every new message needs a new webhook-id")
    return row["status_code"], row["response"]


def receive(rt: Runtime, raw: bytes, headers: dict, correlation_id: str | None = None) -> tuple[int, dict]:
    """Verify, deduplicate and apply one inbound webhook; (status, answer)."""
    text = verify(rt.settings.inbound_webhook_secret, raw, headers)
    webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
    request_hash = hashlib.sha256(raw).hexdigest()
    source, external_id, data = parse_payload(text)
    try:
        with rt.transaction() as conn:
            conn.execute(delete(inbound_webhooks).where(inbound_webhooks.c.received_at < utcnow() - RETENTION))
            if (stored := stored_answer(conn, webhook_id, request_hash)) is not None:
                return stored
            action, article = upsert(conn, source, external_id, data, languages=rt.settings.languages,
                                     max_body=rt.settings.max_body_bytes, correlation_id=correlation_id)
            status = 201 if action == "created" else 200
            answer = {"action": action, "source": source, "external_id": external_id,
                      "webhook_id": webhook_id, "article": svc.to_json(article)}
            conn.execute(inbound_webhooks.insert().values(
                webhook_id=webhook_id, request_hash=request_hash, status_code=status, response=answer,
                received_at=utcnow()))
    except IntegrityError:
        # A concurrent delivery of the same message (or the same external id) committed first.
        with rt.engine.begin() as conn:
            stored = stored_answer(conn, webhook_id, request_hash)
        if stored is None:
            raise svc.Conflict("a concurrent webhook changed the same article; retry")
        return stored
    return status, answer


@bp.post("/articles")
def receive_article():
    """A partner's signed ``article.upsert``: 201 created, 200 updated, the first answer for a retry."""
    try:
        status, answer = receive(runtime(), request.get_data(cache=True), dict(request.headers), g.correlation_id)
    except SignatureRejected as exc:
        raise ApiError(401, exc.message, field=exc.field)
    except MalformedPayload as exc:
        raise ApiError(400, str(exc))
    except svc.InvalidInput as exc:
        raise ApiError(422, exc.message, field=exc.field)
    except WebhookIdReused as exc:
        raise ApiError(409, str(exc), field="webhook-id")
    except svc.Conflict as exc:
        raise ApiError(409, str(exc))
    return jsonify(answer), status
