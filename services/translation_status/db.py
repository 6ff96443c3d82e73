"""The translation_status service's tables (its own database)."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

from shared.outbox import inbox_table, outbox_table
from shared.signed import inbound_table

metadata = MetaData()

groups = Table(
    "groups",
    metadata,
    Column("group_id", String(36), primary_key=True),
    Column("source_lang", String(8), nullable=False),
    Column("source_article_id", String(36), nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("source_revision", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

statuses = Table(
    "statuses",
    metadata,
    Column("group_id", String(36), primary_key=True),
    Column("lang", String(8), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("article_id", String(36), nullable=True),
    Column("article_state", String(20), nullable=True),
    Column("revision", Integer, nullable=True),
    Column("title", Text, nullable=True),
    Column("url", Text, nullable=True),
    Column("source_hash", String(64), nullable=True),  # the source's hash this translation follows
    Column("translator", String(320), nullable=True),
    Column("vendor", String(100), nullable=True),
    Column("requested_by", String(320), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("last_event_at", String(40), nullable=False),  # orders events sent before seq existed (seq 0)
    # The seq of the last article event applied to this row: an event is applied only when newer.
    Column("seq", Integer, nullable=False, default=0, server_default="0"),
    # Bumped with every status change; translation.status_changed carries it as ``sequence``.
    Column("status_seq", Integer, nullable=False, default=0, server_default="0"),
    Column("waiting_revision", Integer, nullable=True),  # a newer revision waiting for an editor
    Column("live_source_hash", String(64), nullable=True),  # the source's hash the live translation was made from
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

inbound_webhooks = inbound_table(metadata)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
