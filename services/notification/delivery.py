"""The webhook delivery engine: plan, sign, send, record, retry on schedule, replay.

Deliveries are durable rows. A delivery is sent by ``send_delivery`` under a short lease; the beat
sweep re-dispatches due ones, so retries never depend on long Celery countdowns.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime, timedelta

import urllib3
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection, Engine
from standardwebhooks.webhooks import Webhook

from shared import events as ev
from shared import tasks
from shared.events import aware, iso, utcnow

from .db import attempts, deliveries, subscriptions
from .mail import queue_email
from .ssrf import UnsafeTarget, check_url
from .subscriptions import signing_secrets
from .transport import USER_AGENT, post_signed, retry_after_seconds

log = logging.getLogger(__name__)

# Standard Webhooks retry schedule: the wait after attempt n (1-based) failed.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
LEASE_SLACK_SECONDS = 5
FAILING_DISABLE_AFTER = timedelta(days=5)
TEST_EVENT = "webhook.test"


_PAYLOAD_FIELDS = {
    ev.ARTICLE_PUBLISHED: ("article_id", "group_id", "lang", "title", "url", "slug", "revision", "published_at", "translations",
                          "image"),
    ev.ARTICLE_UNPUBLISHED: ("article_id", "group_id", "lang", "title", "url", "slug"),
    ev.ARTICLE_SUBMITTED: ("article_id", "group_id", "lang", "title", "revision"),
    ev.TRANSLATION_STATUS_CHANGED: ("group_id", "lang", "old_status", "new_status", "sequence", "article_id", "url",
                                    "title"),
    ev.ARTICLE_SCHEDULE_MISSED: ("article_id", "group_id", "lang", "title", "publish_at", "late_seconds"),
    # A vendor needs the source itself and where to send the translation back.
    ev.TRANSLATION_REQUESTED: ("group_id", "lang", "source_lang", "source_article_id", "source_revision", "source_hash",
                               "title", "body", "references", "due_at", "vendor", "callback_url"),
    ev.TRANSLATION_DELIVERED: ("group_id", "lang", "title", "source_revision", "vendor"),
}


def payload_for(envelope: dict) -> dict:
    """The small ``{type, timestamp, data}`` body subscribers receive for an event."""
    fields = _PAYLOAD_FIELDS.get(envelope["type"])
    data = envelope["data"] if fields is None else {k: envelope["data"].get(k) for k in fields}
    return {"type": envelope["type"], "timestamp": envelope["occurred_at"], "data": data}


def event_lang(envelope: dict) -> str | None:
    """The language an event is about, for subscriptions' language filters."""
    return envelope["data"].get("lang")


def plan_deliveries(conn: Connection, envelope: dict) -> list[str]:
    """Create one pending delivery per matching enabled subscription; return the new delivery ids."""
    lang = event_lang(envelope)
    if envelope["type"] == ev.TRANSLATION_REQUESTED and not envelope["data"].get("vendor"):
        return []  # assigned to an in-house translator: vendors must not start on it
    body = json.dumps(payload_for(envelope), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    now = utcnow()
    created = []
    for sub in conn.execute(select(subscriptions).where(subscriptions.c.enabled.is_(True))).mappings():
        if envelope["type"] not in sub["events"]:
            continue
        if sub["languages"] and lang not in sub["languages"]:
            continue
        exists = conn.execute(select(deliveries.c.id).where(and_(
            deliveries.c.subscription_id == sub["id"], deliveries.c.event_id == envelope["id"]))).first()
        if exists:
            continue
        delivery_id = str(uuid.uuid4())
        conn.execute(deliveries.insert().values(
            id=delivery_id, webhook_id=f"msg_{uuid.uuid4().hex}", subscription_id=sub["id"],
            event_id=envelope["id"], event_type=envelope["type"], payload=body, status="pending",
            article_id=envelope["data"].get("article_id"), correlation_id=(envelope.get("correlation_id") or None),
            attempts=0, next_attempt_at=now, created_at=now, updated_at=now,
        ))
        created.append(delivery_id)
    return created


def dispatch(engine: Engine, celery, delivery_ids: list[str]) -> int:
    """Queue a send task per delivery and note when; unsent ones are left for the sweep."""
    if not delivery_ids:
        return 0
    # Noted before sending: a worker that sends at once and schedules a retry (clearing the note)
    # must not have its retry hidden from the sweep by a note written after it.
    with engine.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.id.in_(delivery_ids)).values(dispatched_at=utcnow()))
    for i, delivery_id in enumerate(delivery_ids):
        try:
            celery.send_task(tasks.DELIVER_WEBHOOK, args=[delivery_id], queue=tasks.queue_for(tasks.DELIVER_WEBHOOK))
        except Exception:
            log.warning("dispatch of delivery %s failed; the sweep will retry", delivery_id, exc_info=True)
            with engine.begin() as conn:
                conn.execute(update(deliveries).where(deliveries.c.id.in_(delivery_ids[i:])).values(dispatched_at=None))
            return i
    return len(delivery_ids)


def due_deliveries(engine: Engine, limit: int = 500, redispatch_after: float = 25) -> list[str]:
    """Pending deliveries whose time has come and that are neither leased nor freshly queued."""
    now = utcnow()
    with engine.begin() as conn:
        return list(conn.execute(select(deliveries.c.id).where(and_(
            deliveries.c.status == "pending",
            deliveries.c.next_attempt_at <= now,
            or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
            or_(deliveries.c.dispatched_at.is_(None),
                deliveries.c.dispatched_at < now - timedelta(seconds=redispatch_after)),
        )).order_by(deliveries.c.next_attempt_at).limit(limit)).scalars())


def next_delay(attempt_number: int, scale: float, retry_after: float | None = None) -> float | None:
    """Seconds until the next attempt after attempt ``attempt_number`` failed; None when exhausted."""
    if attempt_number > len(RETRY_SCHEDULE):
        return None
    if retry_after is not None:
        return min(max(retry_after, 1.0), 86400.0)
    return RETRY_SCHEDULE[attempt_number - 1] * scale


def send_delivery(engine: Engine, delivery_id: str, *, allowlist: tuple, timeout: float, scale: float) -> str:
    """Make one attempt of a due delivery; return its outcome (or 'skipped' when not due or leased)."""
    now = utcnow()
    with engine.begin() as conn:
        claimed = conn.execute(update(deliveries).where(and_(
            deliveries.c.id == delivery_id,
            deliveries.c.status == "pending",
            deliveries.c.next_attempt_at <= now,
            or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
        )).values(lease_until=now + timedelta(seconds=timeout + LEASE_SLACK_SECONDS))).rowcount
        if not claimed:
            return "skipped"
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().one()
        sub = conn.execute(select(subscriptions).where(subscriptions.c.id == row["subscription_id"])).mappings().one()
    if not sub["enabled"]:
        with engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
                status="failed", lease_until=None, last_error="subscription disabled", updated_at=utcnow()))
        return "cancelled"

    number = row["attempts"] + 1
    started = utcnow()
    status_code, snippet, error, retry_after = None, None, None, None
    clock = time.monotonic()
    try:
        target = check_url(sub["url"], allowlist)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": row["webhook_id"],
            **({"x-correlation-id": row["correlation_id"]} if row["correlation_id"] else {}),
            "webhook-timestamp": str(int(started.timestamp())),
            "webhook-signature": " ".join(
                Webhook(secret).sign(row["webhook_id"], started, row["payload"]) for secret in signing_secrets(sub, started)),
        }
        status_code, snippet, response_headers = post_signed(target, row["payload"], headers, timeout)
        if status_code in (429, 503):
            retry_after = retry_after_seconds(response_headers.get("Retry-After") or response_headers.get("retry-after"))
    except UnsafeTarget as exc:
        error = f"refused by the SSRF guard: {exc}"
    except urllib3.exceptions.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = int((time.monotonic() - clock) * 1000)

    ok = status_code is not None and 200 <= status_code < 300
    values: dict = {"attempts": number, "lease_until": None, "last_status_code": status_code,
                    "last_error": error, "updated_at": utcnow()}
    disable_reason = None
    if ok:
        values.update(status="succeeded", next_attempt_at=None)
        outcome = "succeeded"
    elif status_code == 410:
        values.update(status="failed", next_attempt_at=None, last_error="410 Gone: subscription disabled")
        disable_reason = "the receiver answered 410 Gone"
        outcome = "gone"
    else:
        if status_code is not None and 300 <= status_code < 400:
            values["last_error"] = f"redirect {status_code} not followed"
        delay = next_delay(number, scale, retry_after)
        if delay is None:
            values.update(status="failed", next_attempt_at=None)
            outcome = "exhausted"
        else:
            values.update(next_attempt_at=utcnow() + timedelta(seconds=delay), dispatched_at=None)
            outcome = "retry"
    failing_since = sub["failing_since"]
    sub_values: dict = {}
    if ok:
        if failing_since is not None:
            sub_values["failing_since"] = None
    elif disable_reason is None:
        if failing_since is None:
            sub_values["failing_since"] = started
        elif started - aware(failing_since) >= FAILING_DISABLE_AFTER * scale:
            disable_reason = f"every delivery failed for {FAILING_DISABLE_AFTER.days} days"
    with engine.begin() as conn:
        if disable_reason:
            sub_values.update(enabled=False, disabled_reason=disable_reason)
            if sub["owner_email"]:
                queue_email(conn, dedupe_key=f"subscription-disabled:{sub['id']}:{iso(started)}",
                            to=sub["owner_email"], lang=sub["owner_lang"] or "en", kind="subscription_disabled",
                            context={"url": sub["url"], "reason": disable_reason})
        if sub_values:
            conn.execute(update(subscriptions).where(subscriptions.c.id == sub["id"]).values(**sub_values))
        conn.execute(attempts.insert().values(
            delivery_id=delivery_id, number=number, started_at=started, status_code=status_code,
            latency_ms=latency_ms, error=values["last_error"], response_snippet=snippet,
        ))
        conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))
    return outcome


def create_test_delivery(conn: Connection, subscription_id: str) -> str | None:
    """A ``webhook.test`` delivery to one subscription, whatever its event filter; None when unknown."""
    sub = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).mappings().first()
    if sub is None:
        return None
    now = utcnow()
    event_id = str(uuid.uuid4())
    body = json.dumps({"type": TEST_EVENT, "timestamp": now.isoformat(),
                       "data": {"subscription_id": subscription_id, "message": "Test event sent from the pipeline."}},
                      separators=(",", ":"), sort_keys=True)
    delivery_id = str(uuid.uuid4())
    conn.execute(deliveries.insert().values(
        id=delivery_id, webhook_id=f"msg_{uuid.uuid4().hex}", subscription_id=subscription_id, event_id=event_id,
        event_type=TEST_EVENT, payload=body, status="pending", attempts=0, next_attempt_at=now,
        created_at=now, updated_at=now))
    return delivery_id


def delivery_log(conn: Connection, filters: dict, *, since: datetime | None, until: datetime | None,
                 limit: int) -> tuple[list[dict], dict[str, list[dict]]]:
    """Deliveries (newest first) matching column filters and a creation time range, with their attempts."""
    query = select(deliveries).order_by(deliveries.c.created_at.desc()).limit(limit)
    for name, value in filters.items():
        query = query.where(deliveries.c[name] == value)
    if since is not None:
        query = query.where(deliveries.c.created_at >= since)
    if until is not None:
        query = query.where(deliveries.c.created_at < until)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    logs: dict[str, list[dict]] = {}
    if rows:
        for a in conn.execute(select(attempts).where(attempts.c.delivery_id.in_([r["id"] for r in rows]))
                              .order_by(attempts.c.number)).mappings():
            logs.setdefault(a["delivery_id"], []).append(dict(a))
    return rows, logs


def replay_failed(conn: Connection, since: datetime, until: datetime, subscription_id: str | None = None) -> list[str]:
    """Make every failed delivery created in [since, until) pending again, keeping their ids."""
    query = select(deliveries.c.id).where(and_(deliveries.c.status == "failed", deliveries.c.created_at >= since,
                                               deliveries.c.created_at < until))
    if subscription_id:
        query = query.where(deliveries.c.subscription_id == subscription_id)
    ids = list(conn.execute(query).scalars())
    for delivery_id in ids:
        replay(conn, delivery_id)
    return ids


def replay(conn: Connection, delivery_id: str) -> bool:
    """Make a delivery pending again, now, with its original webhook-id; False when unknown."""
    return bool(conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
        status="pending", next_attempt_at=utcnow(), dispatched_at=None, lease_until=None, updated_at=utcnow(),
    )).rowcount)


def delivery_json(row: dict, attempt_rows: list[dict] | None = None) -> dict:
    """The API view of a delivery and, when given, its attempts."""
    out = {k: row[k] for k in ("id", "webhook_id", "subscription_id", "event_id", "event_type", "article_id",
                               "status", "attempts", "last_status_code", "last_error")}
    for key in ("next_attempt_at", "created_at", "updated_at"):
        out[key] = iso(row[key])
    out["payload"] = json.loads(row["payload"])
    if attempt_rows is not None:
        out["attempt_log"] = [
            {"number": a["number"], "started_at": iso(a["started_at"]), "status_code": a["status_code"],
             "latency_ms": a["latency_ms"], "error": a["error"], "response_snippet": a["response_snippet"]}
            for a in attempt_rows
        ]
    return out
