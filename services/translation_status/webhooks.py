"""Signed inbound webhooks of translation_status: vendors deliver translations to ``POST /webhooks/translations``."""
from __future__ import annotations

from typing import Literal

from flask import Blueprint, jsonify, request
from pydantic import ConfigDict, Field

from shared.content import Reference
from shared.openapi import Answer, Body, operation, validate
from shared.runtime import runtime
from shared.signed import SIGNATURE_HEADERS, json_object, receive_once, signed_endpoint

from . import status as svc
from .db import inbound_webhooks

bp = Blueprint("translation_status_webhooks", __name__, url_prefix="/webhooks")


class Translator(Body):
    """Who translated."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(None, max_length=200)


class Translation(Body):
    """A vendor's translation of one language of a group, made from ``source_revision``."""

    model_config = ConfigDict(extra="allow")  # vendors may send more than we read
    group_id: str = Field(min_length=1, max_length=36)
    lang: str = Field(min_length=1, max_length=8)
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1)
    source_hash: str = Field(min_length=1, max_length=64)
    source_revision: int = Field(ge=1, description="the source revision from translation.requested")
    references: list[Reference] = Field([], max_length=200)
    translator: Translator | None = None
    vendor: str | None = Field(None, max_length=100)


class TranslationDelivered(Body):
    """A signed ``translation.delivered`` callback."""

    model_config = ConfigDict(extra="allow", strict=True)
    type: Literal["translation.delivered"]
    data: Translation


class Accepted(Answer):
    """The delivery was accepted."""

    status: Literal["accepted"]
    group_id: str
    lang: str


@bp.post("/translations")
@signed_endpoint
@operation(body=TranslationDelivered, check_body=False, headers=SIGNATURE_HEADERS, responses={202: Accepted})
def translation_callback():
    """A vendor delivers a translation: Standard Webhooks signed, within ±5 minutes, each id processed once."""
    rt = runtime()

    def handle(conn, text: str) -> tuple[int, dict]:
        data = json_object(text)
        validate(TranslationDelivered, data)
        fields = svc.parse_delivery(data, rt.settings.languages)
        svc.deliver_translation(conn, fields, vendor=data["data"].get("vendor"))
        return 202, {"status": "accepted", "group_id": fields["group_id"], "lang": fields["lang"]}

    status, answer = receive_once(rt, inbound_webhooks, request.get_data(cache=True), dict(request.headers), handle)
    return jsonify(answer), status
