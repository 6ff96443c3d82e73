"""Signed inbound webhooks: one signature check and one dedupe store for every receiving endpoint.

Requests are signed with Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``) using ``INBOUND_WEBHOOK_SECRET`` and verified on the raw body with the
``standardwebhooks`` library (timestamps within 5 minutes). A processed ``webhook-id`` is kept for
7 days with its answer and a hash of its body, so a retry (same id, fresh timestamp) changes
nothing and gets the first answer again, while the same id with another body is a 409.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Callable

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.db import JSONType
from shared.errors import ApiError, Conflict, InvalidInput
from shared.events import utcnow
from shared.openapi import Header

if TYPE_CHECKING:
    from shared.runtime import Runtime

RETENTION = timedelta(days=7)
TOLERANCE_MINUTES = 5  # the standardwebhooks library's fixed window
_SIGNATURE_RE = re.compile(r"^v1[a-z]?,[A-Za-z0-9+/]+={0,2}$")

SIGNATURE_HEADERS = (
    Header("webhook-id", True, "the message id (at most 200 printable ASCII characters); a retry reuses it"),
    Header("webhook-timestamp", True, "the signing time in Unix seconds, within 5 minutes of the server's clock"),
    Header("webhook-signature", True, "'v1,<base64 HMAC-SHA256 of id.timestamp.body>' with INBOUND_WEBHOOK_SECRET"),
)

# handle(conn, body_text) -> (HTTP status, JSON answer); runs in the transaction that records the id.
Handler = Callable[[Connection, str], tuple[int, dict]]


class SignatureRejected(ApiError):
    """The request is unsigned, stale or tampered with (401); ``field`` names the header."""

    def __init__(self, field: str, message: str):
        super().__init__(401, message, field=field)


def inbound_table(metadata: MetaData) -> Table:
    """The table of processed webhook ids with their body hash and first answer."""
    return Table(
        "inbound_webhooks",
        metadata,
        Column("webhook_id", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSONType, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, index=True),
    )


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
        raise ApiError(400, f"the body is not UTF-8 (byte {exc.start})") from exc
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


def json_object(text: str) -> dict:
    """A signed body parsed as a JSON object; 400 when it is not JSON, 422 when not an object."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise ApiError(400, "the JSON is nested too deeply; send a flat object") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("body", "must be a JSON object")
    return payload


def stored_answer(conn: Connection, table: Table, webhook_id: str, request_hash: str) -> tuple[int, dict] | None:
    """The first answer to ``webhook_id``, None when it is new; Conflict when it came with another body."""
    row = conn.execute(select(table).where(table.c.webhook_id == webhook_id)).mappings().first()
    if row is None:
        return None
    # An empty hash is a row migrated from 0.1.0, which did not keep one: answer it as 0.1.0 did.
    if row["request_hash"] and row["request_hash"] != request_hash:
        raise Conflict(f"webhook-id {webhook_id!r} was already used for a different body; "
                       "every new message needs a new webhook-id", field="webhook-id")
    return row["status_code"], row["response"]


def signed_endpoint(view: Callable) -> Callable:
    """Mark a route whose body must carry a Standard Webhooks signature (checked by ``receive_once``)."""
    view.pipeline_auth = ("signature", "Standard Webhooks with INBOUND_WEBHOOK_SECRET, ±5 minutes, each id once")
    return view


def receive_once(rt: "Runtime", table: Table, raw: bytes, headers: dict, handle: Handler) -> tuple[int, dict]:
    """Verify, deduplicate and apply one signed webhook; (status, answer). Refusals store nothing."""
    lowered = {k.lower(): v for k, v in headers.items()}
    mimetype = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json":
        raise ApiError(415, f"send the signed body as JSON with 'Content-Type: application/json', not {mimetype or 'nothing'!r}",
                       field="Content-Type")
    text = verify(rt.settings.inbound_webhook_secret, raw, headers)
    webhook_id = lowered["webhook-id"]
    request_hash = hashlib.sha256(raw).hexdigest()
    try:
        with rt.transaction() as conn:
            conn.execute(delete(table).where(table.c.received_at < utcnow() - RETENTION))
            if (stored := stored_answer(conn, table, webhook_id, request_hash)) is not None:
                return stored
            status, answer = handle(conn, text)
            conn.execute(table.insert().values(webhook_id=webhook_id, request_hash=request_hash,
                                               status_code=status, response=answer, received_at=utcnow()))
    except IntegrityError:
        # A concurrent delivery of the same message (or one touching the same rows) committed first.
        with rt.engine.begin() as conn:
            stored = stored_answer(conn, table, webhook_id, request_hash)
        if stored is None:
            raise Conflict("a concurrent webhook changed the same data; retry")
        return stored
    return status, answer
