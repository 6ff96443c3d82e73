"""notification JSON API (bearer token): subscriptions, the delivery log, replay."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from shared.auth import require_token
from shared.content import parse_datetime
from shared.errors import InvalidInput, NotFound
from shared.runtime import runtime
from shared.web import int_arg, json_body

from . import delivery as svc
from . import subscriptions as subs
from .db import attempts, deliveries, subscriptions


bp = Blueprint("notification_api", __name__, url_prefix="/api")


@bp.post("/subscriptions")
@require_token
def create_subscription():
    """Create a webhook subscription; the ``whsec_`` secret is in this answer only."""
    rt = runtime()
    fields = subs.parse_subscription(json_body(), rt.settings.languages, rt.settings.webhook_allowlist)
    with rt.engine.begin() as conn:
        row = subs.create_subscription(conn, fields)
    return jsonify(subs.subscription_json(row, with_secret=True)), 201


@bp.get("/subscriptions")
@require_token
def list_subscriptions():
    """Every subscription, without secrets."""
    with runtime().engine.begin() as conn:
        rows = conn.execute(select(subscriptions).order_by(subscriptions.c.created_at)).mappings().all()
    return jsonify({"subscriptions": [subs.subscription_json(dict(r)) for r in rows]})


def _subscription_or_404(conn, subscription_id: str) -> dict:
    row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).mappings().first()
    if row is None:
        raise NotFound(f"no subscription with id {subscription_id}")
    return dict(row)


@bp.get("/subscriptions/<subscription_id>")
@require_token
def get_subscription(subscription_id: str):
    """One subscription, without its secret."""
    with runtime().engine.begin() as conn:
        return jsonify(subs.subscription_json(_subscription_or_404(conn, subscription_id)))


@bp.patch("/subscriptions/<subscription_id>")
@require_token
def update_subscription(subscription_id: str):
    """Change url, events, languages, description, owner or the enabled flag."""
    rt = runtime()
    data = json_body()
    with rt.engine.begin() as conn:
        current = _subscription_or_404(conn, subscription_id)
        changes = subs.parse_subscription_changes(data, current, rt.settings.languages, rt.settings.webhook_allowlist)
        row = subs.update_subscription(conn, subscription_id, changes)
    return jsonify(subs.subscription_json(row))


@bp.post("/subscriptions/<subscription_id>/rotate-secret")
@require_token
def rotate_secret(subscription_id: str):
    """A new secret (shown once); the old one keeps signing for WEBHOOK_SECRET_OVERLAP_HOURS."""
    rt = runtime()
    overlap = timedelta(hours=rt.settings.webhook_secret_overlap_hours)
    with rt.engine.begin() as conn:
        _subscription_or_404(conn, subscription_id)
        secret = subs.rotate_secret(conn, subscription_id, overlap)
        row = _subscription_or_404(conn, subscription_id)
    return jsonify(dict(subs.subscription_json(row), secret=secret)), 200


@bp.post("/subscriptions/<subscription_id>/test")
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
    return parse_datetime(raw, name)


@bp.get("/deliveries")
@require_token
def list_deliveries():
    """The delivery log, newest first, filterable by subscription_id, event_type, status, since and until."""
    filters = {name: request.args[name] for name in ("subscription_id", "event_type", "status", "article_id")
               if request.args.get(name)}
    with runtime().engine.begin() as conn:
        rows, logs = svc.delivery_log(conn, filters, since=_time_arg("since"), until=_time_arg("until"),
                                      limit=int_arg("limit", 200, low=1, high=1000))
    return jsonify({"deliveries": [svc.delivery_json(r, logs.get(r["id"], [])) for r in rows]})


@bp.get("/deliveries/<delivery_id>")
@require_token
def get_delivery(delivery_id: str):
    """One delivery with every attempt."""
    with runtime().engine.begin() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()
        if row is None:
            raise NotFound(f"no delivery with id {delivery_id}")
        log = [dict(a) for a in conn.execute(select(attempts).where(attempts.c.delivery_id == delivery_id)
                                             .order_by(attempts.c.number)).mappings()]
    return jsonify(svc.delivery_json(dict(row), log))


@bp.post("/deliveries/<delivery_id>/replay")
@require_token
def replay_delivery(delivery_id: str):
    """Send a delivery again with its original webhook-id."""
    rt = runtime()
    with rt.engine.begin() as conn:
        if not svc.replay(conn, delivery_id):
            raise NotFound(f"no delivery with id {delivery_id}")
    svc.dispatch(rt.engine, rt.celery, [delivery_id])
    return jsonify({"id": delivery_id, "status": "pending"}), 202


@bp.post("/deliveries/replay")
@require_token
def replay_failed():
    """Re-send every failed delivery created in [since, until) (optionally of one subscription)."""
    rt = runtime()
    data = json_body()
    since, until = _time_arg("since"), _time_arg("until")
    if since is None or until is None:
        raise InvalidInput("since" if since is None else "until", "since and until are required ISO date-times")
    if until <= since:
        raise InvalidInput("until", "must be after since")
    with rt.engine.begin() as conn:
        ids = svc.replay_failed(conn, since, until, data.get("subscription_id"))
    svc.dispatch(rt.engine, rt.celery, ids)
    return jsonify({"replayed": ids}), 202
