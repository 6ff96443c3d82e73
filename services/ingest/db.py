"""The ingest service's tables (its own database)."""
from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint,
)

from shared.db import JSONType
from shared.outbox import inbox_table, outbox_table
from shared.signed import inbound_table

metadata = MetaData()

articles = Table(
    "articles",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("group_id", String(36), nullable=False, index=True),
    Column("lang", String(8), nullable=False),
    Column("is_source", Boolean, nullable=False),
    Column("slug", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("author", JSONType, nullable=False),
    Column("references", JSONType, nullable=False),
    Column("tags", JSONType, nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("source_hash", String(64), nullable=True),  # the source's hash a translation was made from
    Column("approved_revision", Integer, nullable=True),  # what approve covered; schedule and publish ship it
    Column("published_revision", Integer, nullable=True),
    Column("public_url", Text, nullable=True),
    Column("publish_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    # Bumped in the transaction of every article event ingest emits: consumers apply an event only
    # when its seq is newer than the one they hold, whatever order the events arrive in.
    Column("seq", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("group_id", "lang", name="uq_articles_group_lang"),
    UniqueConstraint("lang", "slug", name="uq_articles_lang_slug"),
)

# Which translator a language of a group is assigned to (from translation_status's
# translation.requested events): translators may edit the translations assigned to them.
translation_assignments = Table(
    "translation_assignments",
    metadata,
    Column("group_id", String(36), primary_key=True),
    Column("lang", String(8), primary_key=True),
    Column("translator", String(320), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)

revisions = Table(
    "revisions",
    metadata,
    Column("article_id", String(36), ForeignKey("articles.id"), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("author", JSONType, nullable=False),
    Column("references", JSONType, nullable=False),
    Column("tags", JSONType, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("source_hash", String(64), nullable=True),  # a translation revision: the source's hash it was made from
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(36), ForeignKey("articles.id"), nullable=False, index=True),
    Column("action", String(40), nullable=False),
    Column("from_state", String(20), nullable=True),
    Column("to_state", String(20), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("note", Text, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSONType, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Where an imported article came from. A table rather than a column on ``articles``: schema
# creation is ``create_all``, which adds new tables to existing databases but never new columns.
article_imports = Table(
    "article_imports",
    metadata,
    Column("article_id", String(36), ForeignKey("articles.id"), primary_key=True),
    Column("original_languages", JSONType, nullable=False),  # codes from the page's "also available in" line
    Column("language_line", Text, nullable=True),
    Column("warnings", JSONType, nullable=False),
    Column("page_sha256", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

# A partner's id for an article it pushed by webhook: the next push with that id edits the article.
external_refs = Table(
    "external_refs",
    metadata,
    Column("source", String(50), primary_key=True),
    Column("external_id", String(200), primary_key=True),
    Column("article_id", String(36), ForeignKey("articles.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Processed inbound webhook ids (kept 7 days): a retry answers the first answer and changes nothing.
inbound_webhooks = inbound_table(metadata)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("lang", String(8), nullable=False, default="en"),  # for emails
    Column("token_hash", String(64), nullable=True, unique=True),  # personal API token (sha256)
    Column("password_hash", String(300), nullable=False),
    Column("active", Boolean, nullable=False, default=True),  # a deactivated account cannot log in or use its token
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

authors = Table(
    "authors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("bios", JSONType, nullable=False),  # {lang: bio}
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

wxr_imports = Table(
    "wxr_imports",
    metadata,
    Column("guid", String(500), primary_key=True),
    Column("article_id", String(36), ForeignKey("articles.id"), nullable=False, index=True),
    Column("post_id", String(40), nullable=True),
    Column("wp_status", String(20), nullable=False),
    Column("wp_date", String(40), nullable=True),
    Column("excerpt", Text, nullable=True),  # WordPress excerpts have no article field; kept here
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
