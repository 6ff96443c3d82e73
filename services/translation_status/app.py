"""translation_status Flask app factory and JSON API."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, Flask, g, jsonify, request
from sqlalchemy import and_, delete, select
from sqlalchemy.exc import IntegrityError

from shared.auth import csrf, init_forms
from shared.config import load_settings
from shared.observability import configure_logging
from shared.runtime import build_runtime, init_flask, read_service, runtime
from shared.events import utcnow
from shared.web import ApiError, json_body, require_token, verify_signed_request

from . import status as svc
from .db import groups, metadata, processed_webhooks, statuses

api_bp = Blueprint("translation_status_api", __name__, url_prefix="/api")
webhook_bp = Blueprint("translation_status_webhooks", __name__)


@api_bp.get("/groups/<group_id>")
@require_token
def get_group(group_id: str):
    """Languages, statuses, source hash and URLs of one translation group."""
    rt = runtime()
    with rt.engine.begin() as conn:
        view = svc.group_view(conn, group_id, rt.settings.languages)
    if view is None:
        raise ApiError(404, f"no translation group with id {group_id}")
    return jsonify(view)


@api_bp.post("/groups/<group_id>/translations")
@require_token
def request_translation(group_id: str):
    """Ask a translator (email) or a vendor for a language, with a due date; 201 with the new status."""
    try:
        cell = place_request(group_id, json_body(), request.headers.get("X-Requested-By", "api"))
    except svc.RequestError as exc:
        raise ApiError(exc.status, exc.message, field=exc.field)
    return jsonify(cell), 201


def place_request(group_id: str, data: dict, requested_by: str) -> dict:
    """Validate and record a translation request (API and form alike); RequestError says what is wrong."""
    rt = runtime()
    fields = svc.parse_request(data, rt.settings.languages)
    with rt.engine.begin() as conn:
        group = conn.execute(select(groups).where(groups.c.group_id == group_id)).mappings().first()
    if group is None:
        raise svc.RequestError("group_id", f"no translation group with id {group_id}", status=404)
    source = _fetch_source(group["source_article_id"])
    with rt.transaction() as conn:
        return svc.request_translation(
            conn, group_id, fields, source, requested_by=requested_by,
            callback_url=f"{rt.settings.service_urls['translation_status']}/webhooks/translations",
            correlation_id=g.correlation_id)


@api_bp.get("/groups/<group_id>/languages/<lang>/source-diff")
@require_token
def source_diff(group_id: str, lang: str):
    """What changed in the source since this language's translation was made."""
    return jsonify(source_changes(group_id, lang))


def source_changes(group_id: str, lang: str) -> dict:
    """The diff (from ingest) between the source revision a translation follows and the current source."""
    rt = runtime()
    with rt.engine.begin() as conn:
        group = conn.execute(select(groups).where(groups.c.group_id == group_id)).mappings().first()
        cell = conn.execute(select(statuses).where(and_(statuses.c.group_id == group_id, statuses.c.lang == lang))).mappings().first()
    if group is None or cell is None or not cell["source_hash"]:
        raise ApiError(404, f"no {lang} translation with a known source revision in group {group_id}")
    revs = read_service("ingest", f"/api/articles/{group['source_article_id']}/revisions")["revisions"]
    made_from = max((r["revision"] for r in revs if r["content_hash"] == cell["source_hash"]), default=None)
    if made_from is None:
        raise ApiError(404, "the source revision this translation was made from is unknown")
    current = revs[-1]["revision"]
    result = read_service("ingest", f"/api/articles/{group['source_article_id']}/diff?from={made_from}&to={current}")
    return dict(result, lang=lang, status=cell["status"], translated_from_revision=made_from, source_revision=current)


def _fetch_source(article_id: str) -> dict:
    """The source article from ingest's API (translation_status does not own article content)."""
    return read_service("ingest", f"/api/articles/{article_id}")


@webhook_bp.post("/webhooks/translations")
def translation_callback():
    """A vendor delivers a translation: Standard Webhooks signed, within ±5 minutes, each id processed once."""
    rt = runtime()
    webhook_id, _raw = verify_signed_request(rt.settings.inbound_webhook_secret)
    with rt.engine.begin() as conn:
        seen = conn.execute(select(processed_webhooks).where(processed_webhooks.c.webhook_id == webhook_id)).mappings().first()
    if seen:
        return jsonify(json.loads(seen["response"])), seen["status_code"]
    data = json_body()
    try:
        fields = svc.parse_delivery(data, rt.settings.languages)
        with rt.transaction() as conn:
            svc.deliver_translation(conn, fields, vendor=data["data"].get("vendor"), correlation_id=g.correlation_id)
            answer = {"status": "accepted", "group_id": fields["group_id"], "lang": fields["lang"]}
            conn.execute(processed_webhooks.insert().values(
                webhook_id=webhook_id, status_code=202, response=json.dumps(answer), received_at=utcnow()))
            conn.execute(delete(processed_webhooks).where(processed_webhooks.c.received_at < utcnow() - timedelta(days=7)))
    except svc.RequestError as exc:
        raise ApiError(exc.status, exc.message, field=exc.field)
    except IntegrityError:
        raise ApiError(409, "this webhook-id is being processed by a concurrent request; retry")
    return jsonify(answer), 202


def create_app(test_config: dict | None = None) -> Flask:
    """The translation_status web app; ``test_config`` may carry ``SETTINGS`` and Flask config."""
    configure_logging("translation_status")
    test_config = dict(test_config or {})
    settings = test_config.pop("SETTINGS", None) or load_settings()
    app = Flask(__name__)
    app.config.update(test_config)
    init_flask(app, build_runtime("translation_status", settings, metadata))
    init_forms(app, "translation_status", settings.service_urls)
    app.config.setdefault("LOGIN_URL", f"{settings.service_urls['ingest']}/login")
    from .views import bp as ui_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(webhook_bp)
    app.register_blueprint(ui_bp)
    csrf.exempt(api_bp)
    csrf.exempt(webhook_bp)
    return app
