"""Signed inbound webhooks of translation_status: vendors deliver translations to ``POST /webhooks/translations``."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from shared.runtime import runtime
from shared.signed import json_object, receive_once, signed_endpoint

from . import status as svc
from .db import inbound_webhooks

bp = Blueprint("translation_status_webhooks", __name__, url_prefix="/webhooks")


@bp.post("/translations")
@signed_endpoint
def translation_callback():
    """A vendor delivers a translation: Standard Webhooks signed, within ±5 minutes, each id processed once."""
    rt = runtime()

    def handle(conn, text: str) -> tuple[int, dict]:
        data = json_object(text)
        fields = svc.parse_delivery(data, rt.settings.languages)
        svc.deliver_translation(conn, fields, vendor=data["data"].get("vendor"))
        return 202, {"status": "accepted", "group_id": fields["group_id"], "lang": fields["lang"]}

    status, answer = receive_once(rt, inbound_webhooks, request.get_data(cache=True), dict(request.headers), handle)
    return jsonify(answer), status
