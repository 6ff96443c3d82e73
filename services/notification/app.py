"""notification Flask app factory and JSON API: subscriptions, the delivery log, replay."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Flask, jsonify, request
from sqlalchemy import select

from shared.auth import csrf, init_forms
from shared.config import load_settings
from shared.events import aware
from shared.observability import configure_logging
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


def _subscription_or_404(conn, subscription_id: str) -> dict:
    row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).mappings().first()
    if row is None:
        raise ApiError(404, f"no subscription with id {subscription_id}")
    return dict(row)


@api_bp.get("/subscriptions/<subscription_id>")
@require_token
def get_subscription(subscription_id: str):
    """One subscription, without its secret."""
    with runtime().engine.begin() as conn:
        return jsonify(svc.subscription_json(_subscription_or_404(conn, subscription_id)))


@api_bp.patch("/subscriptions/<subscription_id>")
@require_token
def update_subscription(subscription_id: str):
    """Change url, events, languages, description, owner or the enabled flag."""
    rt = runtime()
    data = json_body()
    with rt.engine.begin() as conn:
        current = _subscription_or_404(conn, subscription_id)
        try:
            changes = svc.parse_subscription_changes(data, current, rt.settings.languages, rt.settings.webhook_allowlist)
        except svc.InvalidSubscription as exc:
            raise ApiError(422, exc.message, field=exc.field)
        row = svc.update_subscription(conn, subscription_id, changes)
    return jsonify(svc.subscription_json(row))


@api_bp.post("/subscriptions/<subscription_id>/rotate-secret")
@require_token
def rotate_secret(subscription_id: str):
    """A new secret (shown once); the old one keeps signing for WEBHOOK_SECRET_OVERLAP_HOURS."""
    rt = runtime()
    overlap = timedelta(hours=rt.settings.webhook_secret_overlap_hours)
    with rt.engine.begin() as conn:
        _subscription_or_404(conn, subscription_id)
        secret = svc.rotate_secret(conn, subscription_id, overlap)
        row = _subscription_or_404(conn, subscription_id)
    return jsonify(dict(svc.subscription_json(row), secret=secret)), 200


@api_bp.post("/subscriptions/<subscription_id>/test")
@require_token
def send_test_event(subscription_id: str):
    """Send a signed ``webhook.test`` event to this subscription now."""
    rt = runtime()
    with rt.engine.begin() as conn:
        _subscription_or_404(conn, subscription_id)
        delivery_id = svc.create_test_delivery(conn, subscription_id)
    svc.dispatch(rt.engine, rt.celery, [delivery_id])
    return jsonify({"delivery_id": delivery_id, "status": "pending"}), 202


def _time_arg(name: str):
    raw = request.args.get(name) if request.method == "GET" else (request.get_json(silent=True) or {}).get(name)
    if raw in (None, ""):
        return None
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise ApiError(422, f"{name} must be an ISO date-time such as 2026-11-29T10:00:00+00:00", field=name)
    return aware(value)


@api_bp.get("/deliveries")
@require_token
def list_deliveries():
    """The delivery log, newest first, filterable by subscription_id, event_type, status, since and until."""
    query = select(deliveries).order_by(deliveries.c.created_at.desc()).limit(min(int(request.args.get("limit", 200)), 1000))
    for name in ("subscription_id", "event_type", "status", "article_id"):
        if request.args.get(name):
            query = query.where(deliveries.c[name] == request.args[name])
    if (since := _time_arg("since")) is not None:
        query = query.where(deliveries.c.created_at >= since)
    if (until := _time_arg("until")) is not None:
        query = query.where(deliveries.c.created_at < until)
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


@api_bp.post("/deliveries/replay")
@require_token
def replay_failed():
    """Re-send every failed delivery created in [since, until) (optionally of one subscription)."""
    rt = runtime()
    data = json_body()
    since, until = _time_arg("since"), _time_arg("until")
    if since is None or until is None:
        raise ApiError(422, "since and until are required ISO date-times", field="since" if since is None else "until")
    if until <= since:
        raise ApiError(422, "until must be after since", field="until")
    with rt.engine.begin() as conn:
        ids = svc.replay_failed(conn, since, until, data.get("subscription_id"))
    svc.dispatch(rt.engine, rt.celery, ids)
    return jsonify({"replayed": ids}), 202


def create_app(test_config: dict | None = None) -> Flask:
    """The notification web app; ``test_config`` may carry ``SETTINGS`` and Flask config."""
    configure_logging("notification")
    test_config = dict(test_config or {})
    settings = test_config.pop("SETTINGS", None) or load_settings()
    app = Flask(__name__)
    app.config.update(test_config)
    init_flask(app, build_runtime("notification", settings, metadata))
    init_forms(app, "notification", settings.service_urls)
    app.config.setdefault("LOGIN_URL", f"{settings.service_urls['ingest']}/login")
    from .views import bp as ui_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(ui_bp)
    csrf.exempt(api_bp)  # the JSON API authenticates by bearer token, not by cookie
    return app
