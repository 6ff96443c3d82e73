"""The notification service's tables (its own database)."""
from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint,
)

from shared.db import JSONType
from shared.outbox import inbox_table

metadata = MetaData()

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", JSONType, nullable=False),
    Column("languages", JSONType, nullable=False),  # empty: every language
    Column("description", Text, nullable=False, default=""),
    Column("secret", String(100), nullable=False),
    # During a rotation the old secret also signs, until it expires.
    Column("previous_secret", String(100), nullable=True),
    Column("previous_secret_expires_at", DateTime(timezone=True), nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text, nullable=True),
    Column("owner_email", String(320), nullable=True),
    Column("owner_lang", String(8), nullable=True),
    Column("failing_since", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("webhook_id", String(64), nullable=False, unique=True),  # stable across retries and replays
    Column("subscription_id", String(36), ForeignKey("subscriptions.id"), nullable=False, index=True),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False, index=True),
    Column("article_id", String(36), nullable=True, index=True),  # for the article timeline
    Column("correlation_id", String(64), nullable=True),  # sent as X-Correlation-ID on every attempt
    Column("payload", Text, nullable=False),  # the exact JSON body that is signed and sent
    Column("status", String(20), nullable=False, index=True),  # pending, succeeded, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True, index=True),
    Column("dispatched_at", DateTime(timezone=True), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscription_id", "event_id", name="uq_delivery_subscription_event"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("response_snippet", Text, nullable=True),
)

emails = Table(
    "emails",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Written before sending: a retried task finds it and does not mail twice.
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("to_address", String(320), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("kind", String(60), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),  # pending, sending, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
)

inbox = inbox_table(metadata)
