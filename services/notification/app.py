"""notification Flask app factory and JSON API: subscriptions, the delivery log, replay."""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from sqlalchemy import select

from shared.config import load_settings
from shared.runtime import build_runtime, init_flask, runtime
from shared.web import ApiError, json_body, require_token

from . import delivery as svc
from .db import attempts, deliveries, metadata, subscriptions

api_bp = Blueprint("notification_api", __name__, url_prefix="/api")


@api_bp.post("/subscriptions")
@require_token
def create_subscription():
    """Create a webhook subscription; the ``whsec_`` secret is in this answer only."""
    rt = runtime()
    try:
        fields = svc.parse_subscription(json_body(), rt.settings.languages, rt.settings.webhook_allowlist)
    except svc.InvalidSubscription as exc:
        raise ApiError(422, exc.message, field=exc.field)
    with rt.engine.begin() as conn:
        row = svc.create_subscription(conn, fields)
    return jsonify(svc.subscription_json(row, with_secret=True)), 201


@api_bp.get("/subscriptions")
@require_token
def list_subscriptions():
    """Every subscription, without secrets."""
    with runtime().engine.begin() as conn:
        rows = conn.execute(select(subscriptions).order_by(subscriptions.c.created_at)).mappings().all()
    return jsonify({"subscriptions": [svc.subscription_json(dict(r)) for r in rows]})


@api_bp.get("/deliveries")
@require_token
def list_deliveries():
    """The delivery log, newest first, filterable by subscription_id, event_type and status."""
    query = select(deliveries).order_by(deliveries.c.created_at.desc()).limit(500)
    for name in ("subscription_id", "event_type", "status"):
        if request.args.get(name):
            query = query.where(deliveries.c[name] == request.args[name])
    with runtime().engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        logs = {}
        if rows:
            for a in conn.execute(select(attempts).where(attempts.c.delivery_id.in_([r["id"] for r in rows]))
                                  .order_by(attempts.c.number)).mappings():
                logs.setdefault(a["delivery_id"], []).append(dict(a))
    return jsonify({"deliveries": [svc.delivery_json(r, logs.get(r["id"], [])) for r in rows]})


@api_bp.get("/deliveries/<delivery_id>")
@require_token
def get_delivery(delivery_id: str):
    """One delivery with every attempt."""
    with runtime().engine.begin() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()
        if row is None:
            raise ApiError(404, f"no delivery with id {delivery_id}")
        log = [dict(a) for a in conn.execute(select(attempts).where(attempts.c.delivery_id == delivery_id)
                                             .order_by(attempts.c.number)).mappings()]
    return jsonify(svc.delivery_json(dict(row), log))


@api_bp.post("/deliveries/<delivery_id>/replay")
@require_token
def replay_delivery(delivery_id: str):
    """Send a delivery again with its original webhook-id."""
    rt = runtime()
    with rt.engine.begin() as conn:
        if not svc.replay(conn, delivery_id):
            raise ApiError(404, f"no delivery with id {delivery_id}")
    svc.dispatch(rt.engine, rt.celery, [delivery_id])
    return jsonify({"id": delivery_id, "status": "pending"}), 202


def create_app(test_config: dict | None = None) -> Flask:
    """The notification web app; ``test_config`` may carry ``SETTINGS`` and Flask config."""
    test_config = dict(test_config or {})
    settings = test_config.pop("SETTINGS", None) or load_settings()
    app = Flask(__name__)
    app.config.update(test_config)
    init_flask(app, build_runtime("notification", settings, metadata))
    app.register_blueprint(api_bp)
    return app
