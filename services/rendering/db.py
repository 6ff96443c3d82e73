"""The rendering service's read model of live pages (its own database)."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint

from shared.db import JSONType
from shared.outbox import inbox_table, outbox_table

metadata = MetaData()

pages = Table(
    "pages",
    metadata,
    Column("article_id", String(36), primary_key=True),
    Column("group_id", String(36), nullable=False, index=True),
    Column("lang", String(8), nullable=False, index=True),
    Column("slug", String(200), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("snapshot", JSONType, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("lang", "slug", name="uq_pages_lang_slug"),
)

# Old addresses of live articles whose slug changed on republish: answered with a 301 by the
# app and kept on disk as a small fallback page. Rows go when the article is unpublished or a
# page takes the address again.
redirects = Table(
    "redirects",
    metadata,
    Column("lang", String(8), primary_key=True),
    Column("slug", String(200), primary_key=True),
    Column("article_id", String(36), nullable=False, index=True),
)

render_log = Table(
    "render_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(36), nullable=False, index=True),
    Column("revision", Integer, nullable=True),
    Column("action", String(20), nullable=False),  # rendered, removed
    Column("files_written", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Render requests waiting for the next flush, one row per event, applied in ``seq`` order: a
# burst is applied to the read model event by event (exactly as one-at-a-time would) but the
# model is loaded and the site rendered once for the whole batch.
pending_renders = Table(
    "pending_renders",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(36), nullable=False),
    Column("action", String(10), nullable=False),  # publish, remove
    Column("snapshot", JSONType, nullable=True),  # publish only
    Column("revision", Integer, nullable=True),
    Column("correlation_id", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("queued_at", DateTime(timezone=True), nullable=False, index=True),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
