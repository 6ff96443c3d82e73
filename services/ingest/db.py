"""The ingest service's tables (its own database)."""
from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from shared.db import JSONType
from shared.outbox import inbox_table, outbox_table
from shared.signed import inbound_table

metadata = MetaData()

# The media library: one row per image, its bytes in the media store under ``sha256`` (of the
# stripped original), so the same image uploaded twice is one row and one stored file.
media = Table(
    "media",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("format", String(10), nullable=False),  # jpeg or png: the stored original's
    Column("size", Integer, nullable=False),
    Column("filename", String(300), nullable=False),
    Column("alt", JSONType, nullable=False),  # {lang: text}; publishing in a language needs its alt text
    Column("caption", JSONType, nullable=False),  # {lang: text}
    Column("credit", Text, nullable=True),
    Column("source_url", Text, nullable=True),  # where an imported image came from
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

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
    Column("author", JSONType, nullable=False),  # the first of ``authors``, for older readers
    # Nullable so a migration can add them to existing rows; readers fall back to [author] and [].
    Column("authors", JSONType, nullable=True),  # [{name, bio, bio_lang}], main author first
    Column("references", JSONType, nullable=False),
    Column("tags", JSONType, nullable=False),
    Column("categories", JSONType, nullable=True),  # [name]
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
    # The library image shown above the article and shared (og:image, feeds); its alt text is per language.
    # Checked by the commands, not a foreign key: adding one would make SQLite rebuild this table, which
    # other tables reference.
    Column("featured_image", String(36), nullable=True),
    UniqueConstraint("group_id", "lang", name="uq_articles_group_lang"),
    UniqueConstraint("lang", "slug", name="uq_articles_lang_slug"),
)

# The article list pages by (updated_at, id) and the API by (created_at, id), newest first.
Index("ix_articles_updated_at_id", articles.c.updated_at, articles.c.id)
Index("ix_articles_created_at_id", articles.c.created_at, articles.c.id)

# The editors' search index (``search.py``): one row per article, rewritten with every new revision.
# ``document`` is the tsvector on PostgreSQL (title, authors, reference titles, body, each stemmed by
# the article's language); on SQLite it stays empty and the FTS5 table ``article_search_fts``
# (created by the migration: Alembic cannot declare virtual tables) holds the stems, rowid = ``id``.
article_search = Table(
    "article_search",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(36), nullable=False, unique=True),
    Column("document", TSVECTOR().with_variant(Text(), "sqlite"), nullable=True),
)
Index("ix_article_search_document", article_search.c.document, postgresql_using="gin")
# Left out of the models-vs-migration comparison (``deploy.migrate``): the FTS5 table and its shadow tables.
UNMODELLED_TABLE_PREFIXES = ("article_search_fts",)

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
    Column("authors", JSONType, nullable=True),
    Column("references", JSONType, nullable=False),
    Column("tags", JSONType, nullable=False),
    Column("categories", JSONType, nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("source_hash", String(64), nullable=True),  # a translation revision: the source's hash it was made from
    Column("featured_image", String(36), nullable=True),
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

# Where an imported article came from (a table of its own, one row per imported article).
article_imports = Table(
    "article_imports",
    metadata,
    Column("article_id", String(36), ForeignKey("articles.id"), primary_key=True),
    Column("original_languages", JSONType, nullable=False),  # codes from the page's "also available in" line
    Column("language_line", Text, nullable=True),
    Column("warnings", JSONType, nullable=False),
    Column("page_sha256", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    # What makes a page "the same page again": its normalised source URL, else its title, language and text.
    Column("import_key", String(64), nullable=True, unique=True),
    Column("source_url", Text, nullable=True),
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
    Column("language", String(8), nullable=True),  # the editor pages' language; NULL follows the browser
    Column("token_hash", String(64), nullable=True, unique=True),  # personal API token (sha256)
    Column("password_hash", String(300), nullable=False),
    Column("active", Boolean, nullable=False, default=True),  # a deactivated account cannot log in or use its token
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A password reset asked for by email. The link's token only signs ``id``; a reset works once
# (``used_at``), until ``expires_at``, and only while the password is the one it was asked for.
password_resets = Table(
    "password_resets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("email", String(320), nullable=False, index=True),
    Column("password_fingerprint", String(64), nullable=False),  # sha256 of the password hash at request time
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
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

# One row per imported WordPress post. The key is the site plus the post id ("https://site|post:12"),
# or the guid when the export names no site, so two sites' post 1 are two posts.
wxr_imports = Table(
    "wxr_imports",
    metadata,
    Column("dedupe_key", String(600), primary_key=True),
    Column("site", String(500), nullable=True),
    Column("guid", String(500), nullable=False, index=True),
    Column("article_id", String(36), ForeignKey("articles.id"), nullable=False, index=True),
    Column("post_id", String(40), nullable=True),
    Column("wp_status", String(20), nullable=False),
    Column("wp_date", String(40), nullable=True),
    Column("excerpt", Text, nullable=True),  # WordPress excerpts have no article field; kept here
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

# A WordPress import run by the ingest worker (large uploads): the saved file, its state and counts.
wxr_jobs = Table(
    "wxr_jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("status", String(20), nullable=False, index=True),  # queued, running, done, failed
    Column("filename", String(300), nullable=False),
    Column("path", Text, nullable=False),  # the upload, saved under DATA_DIR before the task is sent
    Column("size", Integer, nullable=False),
    Column("default_lang", String(8), nullable=True),
    Column("actor", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("total", Integer, nullable=True),  # posts in the file, known after the first pass
    Column("error", Text, nullable=True),  # a file-wide refusal (not XML, entity declarations)
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),  # a running job older than a lease is resumable
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

# The per-post report of a job, written in the same transaction as the post's articles, so a
# resumed job knows what it already did.
wxr_job_posts = Table(
    "wxr_job_posts",
    metadata,
    Column("job_id", String(36), ForeignKey("wxr_jobs.id"), primary_key=True),
    Column("dedupe_key", String(600), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("outcome", String(20), nullable=False, index=True),  # created, already_imported, skipped, failed
    Column("row", JSONType, nullable=False),  # the report row (title, lang, reason, field, fix, warnings, ...)
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
