"""notification JSON API (bearer token): subscriptions, the delivery log, replay."""
from __future__ import annotations

from datetime import timedelta

from typing import Literal

from flask import Blueprint, g, jsonify
from pydantic import Field
from sqlalchemy import select

from shared import tasks
from shared.auth import require_token
from shared.content import parse_datetime
from shared.errors import InvalidInput, NotFound
from shared.openapi import Answer, Body, Link, Query, operation
from shared.runtime import runtime
from shared.web import json_body

from . import delivery as svc
from . import subscriptions as subs
from .db import attempts, deliveries, subscriptions


bp = Blueprint("notification_api", __name__, url_prefix="/api")

DATE_TIME = {"format": "date-time"}
Event = Literal[tasks.SUBSCRIBABLE_EVENTS]
BY_ID = {"subscription_id": "$response.body#/id"}
SUBSCRIPTION_LINKS = {
    "GetSubscription": Link("notification_api.get_subscription", BY_ID),
    "ChangeSubscription": Link("notification_api.update_subscription", BY_ID),
    "RotateSecret": Link("notification_api.rotate_secret", BY_ID),
    "SendTestEvent": Link("notification_api.send_test_event", BY_ID),
}
DELIVERY_LINKS = {
    "GetDelivery": Link("notification_api.get_delivery", {"delivery_id": "$response.body#/delivery_id"}),
    "ReplayDelivery": Link("notification_api.replay_delivery", {"delivery_id": "$response.body#/delivery_id"}),
}


class SubscriptionChange(Body):
    """A change of a subscription (any subset of its fields)."""

    url: str = Field(None, max_length=2000, description="http(s); must pass the SSRF guard (see WEBHOOK_ALLOWLIST)")
    events: list[Event] = Field(None, min_length=1)
    languages: list[str] = Field(None, description="site languages; empty: every language")
    description: str = Field(None, max_length=500)
    owner_email: str | None = Field(None, max_length=320, description="told when the subscription is disabled")
    owner_lang: str | None = Field(None, max_length=8)
    enabled: bool = Field(None)


class NewSubscription(SubscriptionChange):
    """A webhook subscription: where to send which events, in which languages."""

    url: str = Field(max_length=2000, description="http(s); must pass the SSRF guard (see WEBHOOK_ALLOWLIST)",
                     examples=["https://hooks.example.org/pipeline"])
    events: list[Event] = Field(min_length=1)
    languages: list[str] = Field([], description="site languages; empty: every language")
    description: str = Field("", max_length=500)
    enabled: bool = True


class Subscription(Answer):
    """A subscription; ``secret`` (``whsec_...``) only in the answers that create or rotate it."""

    id: str
    url: str
    events: list[str]
    enabled: bool


class SubscriptionList(Answer):
    """Every subscription, oldest first."""

    subscriptions: list[Subscription]


class Delivery(Answer):
    """One delivery of one event to one subscription, and its attempts when asked for one."""

    id: str
    webhook_id: str
    status: str
    attempts: int


class DeliveryList(Answer):
    """Deliveries, newest first."""

    deliveries: list[Delivery]


class DeliveryQuery(Query):
    """Filters of the delivery log."""

    subscription_id: str | None = Field(None, max_length=36)
    event_type: str | None = Field(None, max_length=100)
    status: str | None = Field(None, max_length=20)
    article_id: str | None = Field(None, max_length=36)
    since: str | None = Field(None, min_length=1, json_schema_extra=DATE_TIME,
                              description="created at or after (UTC without offset)")
    until: str | None = Field(None, min_length=1, json_schema_extra=DATE_TIME, description="created before")
    limit: int = Field(200, ge=1, le=1000)


class ReplayRange(Body):
    """Failed deliveries created in [since, until), of one subscription or all."""

    since: str = Field(min_length=1, json_schema_extra=DATE_TIME)
    until: str = Field(min_length=1, json_schema_extra=DATE_TIME)
    subscription_id: str | None = Field(None, max_length=36)


class Queued(Answer):
    """A delivery queued to be sent."""

    status: Literal["pending"]


class Replayed(Answer):
    """The deliveries queued again."""

    replayed: list[str]


@bp.post("/subscriptions")
@require_token
@operation(body=NewSubscription, responses={201: Subscription}, links=SUBSCRIPTION_LINKS)
def create_subscription():
    """Create a webhook subscription; the ``whsec_`` secret is in this answer only."""
    rt = runtime()
    fields = subs.parse_subscription(json_body(), rt.settings.languages, rt.settings.webhook_allowlist)
    with rt.engine.begin() as conn:
        row = subs.create_subscription(conn, fields)
    return jsonify(subs.subscription_json(row, with_secret=True)), 201


@bp.get("/subscriptions")
@require_token
@operation(responses={200: SubscriptionList})
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
@operation(responses={200: Subscription})
def get_subscription(subscription_id: str):
    """One subscription, without its secret."""
    with runtime().engine.begin() as conn:
        return jsonify(subs.subscription_json(_subscription_or_404(conn, subscription_id)))


@bp.patch("/subscriptions/<subscription_id>")
@require_token
@operation(body=SubscriptionChange, responses={200: Subscription}, links=SUBSCRIPTION_LINKS)
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
@operation(responses={200: Subscription}, links=SUBSCRIPTION_LINKS)
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
@operation(responses={202: Queued}, links=DELIVERY_LINKS)
def send_test_event(subscription_id: str):
    """Send a signed ``webhook.test`` event to this subscription now."""
    rt = runtime()
    with rt.engine.begin() as conn:
        _subscription_or_404(conn, subscription_id)
        delivery_id = svc.create_test_delivery(conn, subscription_id)
    svc.dispatch(rt.engine, rt.celery, [delivery_id])
    return jsonify({"delivery_id": delivery_id, "status": "pending"}), 202


@bp.get("/deliveries")
@require_token
@operation(query=DeliveryQuery, responses={200: DeliveryList})
def list_deliveries():
    """The delivery log, newest first, filterable by subscription_id, event_type, status, since and until."""
    q: DeliveryQuery = g.query
    filters = {name: getattr(q, name) for name in ("subscription_id", "event_type", "status", "article_id")
               if getattr(q, name)}
    since, until = parse_datetime(q.since, "since"), parse_datetime(q.until, "until")
    with runtime().engine.begin() as conn:
        rows, logs = svc.delivery_log(conn, filters, since=since, until=until, limit=q.limit)
    return jsonify({"deliveries": [svc.delivery_json(r, logs.get(r["id"], [])) for r in rows]})


@bp.get("/deliveries/<delivery_id>")
@require_token
@operation(responses={200: Delivery})
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
@operation(responses={202: Queued})
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
@operation(body=ReplayRange, responses={202: Replayed})
def replay_failed():
    """Re-send every failed delivery created in [since, until) (optionally of one subscription)."""
    rt = runtime()
    asked: ReplayRange = g.body
    since, until = parse_datetime(asked.since, "since"), parse_datetime(asked.until, "until")
    if since is None or until is None:
        raise InvalidInput("since" if since is None else "until", "since and until are required ISO date-times")
    if until <= since:
        raise InvalidInput("until", "must be after since")
    with rt.engine.begin() as conn:
        ids = svc.replay_failed(conn, since, until, asked.subscription_id)
    svc.dispatch(rt.engine, rt.celery, ids)
    return jsonify({"replayed": ids}), 202
