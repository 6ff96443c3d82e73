"""Webhook subscriptions: validation (with the SSRF guard), secrets and their rotation, the API view."""
from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from shared import tasks
from shared.errors import InvalidInput
from shared.events import aware, iso, utcnow

from .db import subscriptions
from .ssrf import UnsafeTarget, check_url


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks ``whsec_`` format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def parse_subscription(data: dict, languages: tuple[str, ...], allowlist: tuple) -> dict:
    """Validate a subscription request; the URL must pass the SSRF guard now, too."""
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("url", "is required: the http(s) URL that receives the webhooks")
    if len(url) > 2000:
        raise InvalidInput("url", "is longer than 2000 characters")
    try:
        check_url(url.strip(), allowlist)
    except UnsafeTarget as exc:
        raise InvalidInput("url", str(exc))
    events = data.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise InvalidInput("events", f"must be a non-empty list of event types from {', '.join(tasks.SUBSCRIBABLE_EVENTS)}")
    unknown = [e for e in events if e not in tasks.SUBSCRIBABLE_EVENTS]
    if unknown:
        raise InvalidInput("events", f"unknown event type {unknown[0]!r}; known: {', '.join(tasks.SUBSCRIBABLE_EVENTS)}")
    langs = data.get("languages", [])
    if not isinstance(langs, list) or not all(isinstance(x, str) for x in langs):
        raise InvalidInput("languages", "must be a list of language codes (empty for all)")
    bad = [x for x in langs if x not in languages]
    if bad:
        raise InvalidInput("languages", f"{bad[0]!r} is not a site language; use {', '.join(languages)}")
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > 500:
        raise InvalidInput("description", "must be a string of at most 500 characters")
    owner_email = data.get("owner_email") or None
    if owner_email is not None and (not isinstance(owner_email, str) or "@" not in owner_email or len(owner_email) > 320):
        raise InvalidInput("owner_email", "must be an email address such as ops@example.org")
    owner_lang = data.get("owner_lang") or languages[0]
    if owner_lang not in languages:
        raise InvalidInput("owner_lang", f"must be one of {', '.join(languages)}")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled", "must be true or false")
    return {"url": url.strip(), "events": sorted(set(events)), "languages": sorted(set(langs)),
            "description": description, "owner_email": owner_email, "owner_lang": owner_lang, "enabled": enabled}


def create_subscription(conn: Connection, fields: dict) -> dict:
    """Store a subscription with a fresh secret; the returned dict is the only time the secret is shown."""
    row = dict(fields, id=str(uuid.uuid4()), secret=new_secret(), created_at=utcnow(), updated_at=utcnow())
    conn.execute(subscriptions.insert().values(**row))
    return row


def subscription_json(row: dict, with_secret: bool = False) -> dict:
    """The API view of a subscription (the secret only when just created)."""
    out = {k: row.get(k) for k in ("id", "url", "events", "languages", "description", "enabled", "owner_email", "owner_lang")}
    out["created_at"] = iso(row["created_at"])
    out["failing_since"] = iso(row.get("failing_since"))
    out["rotation_ends_at"] = iso(row.get("previous_secret_expires_at")) if row.get("previous_secret") else None
    out["disabled_reason"] = row.get("disabled_reason")
    if with_secret:
        out["secret"] = row["secret"]
    return out


def signing_secrets(sub: dict, at: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during a rotation's overlap."""
    secrets_ = [sub["secret"]]
    expires = sub.get("previous_secret_expires_at")
    if sub.get("previous_secret") and expires is not None and aware(expires) > at:
        secrets_.append(sub["previous_secret"])
    return secrets_


def rotate_secret(conn: Connection, subscription_id: str, overlap: timedelta) -> str | None:
    """Give a subscription a new secret; the old one keeps signing for ``overlap``. None when unknown."""
    row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).mappings().first()
    if row is None:
        return None
    secret = new_secret()
    conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id).values(
        secret=secret, previous_secret=row["secret"], previous_secret_expires_at=utcnow() + overlap,
        updated_at=utcnow()))
    return secret


def update_subscription(conn: Connection, subscription_id: str, changes: dict) -> dict | None:
    """Apply validated changes (enabling clears the failure state); None when unknown."""
    row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).mappings().first()
    if row is None:
        return None
    values = dict(changes, updated_at=utcnow())
    if changes.get("enabled") is True and not row["enabled"]:
        values.update(disabled_reason=None, failing_since=None)
    if changes.get("enabled") is False and row["enabled"]:
        values.setdefault("disabled_reason", "disabled by a user")
    conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id).values(**values))
    return dict(conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).mappings().one())


def parse_subscription_changes(data: dict, current: dict, languages: tuple[str, ...], allowlist: tuple) -> dict:
    """Validate a partial update by merging it over the current subscription."""
    editable = {"url", "events", "languages", "description", "enabled", "owner_email", "owner_lang"}
    unknown = sorted(set(data) - editable)
    if unknown:
        raise InvalidInput(unknown[0], f"cannot be changed; changeable: {', '.join(sorted(editable))}")
    merged = {k: data.get(k, current[k]) for k in editable}
    fields = parse_subscription(merged, languages, allowlist)
    return {k: fields[k] for k in data}
