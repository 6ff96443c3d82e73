"""The rendering service's read model of live pages (its own database)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR

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

# What pages are rendered from, computed once per revision: the snapshot without its body (``meta``),
# the sanitised body HTML, the description and the similar-posts term counts. The rendering worker
# keeps ``meta`` and the terms in memory and reads bodies only for the pages it renders.
fragments = Table(
    "page_fragments",
    metadata,
    Column("article_id", String(36), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("meta", JSONType, nullable=False),
    Column("clean_html", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("terms", JSONType, nullable=False),
)

# Per language, the document frequencies the similar-posts IDF uses (``similar.Table``), taken again
# only when the language's size doubles or halves, so that one publish re-scores nothing else.
similar_tables = Table(
    "similar_tables",
    metadata,
    Column("lang", String(8), primary_key=True),
    Column("data", JSONType, nullable=False),
)

# One row: bumped (new number and token) in the same transaction as every change to the read
# model, so a process holding the model in memory knows when another process changed it.
site_version = Table(
    "site_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("token", String(32), nullable=False),
)

# The digest, size and mtime of every file last written under SITE_DIR: a render writes a file only
# when its digest changed, and trusts the digest only while the file's size and mtime still match.
page_hashes = Table(
    "page_hashes",
    metadata,
    Column("path", String(600), primary_key=True),
    Column("digest", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
)

# Every image variant written under SITE_DIR/media: one row per image hash, width and format, so a
# variant is generated once and never again (a publish with an unchanged image generates none).
image_variants = Table(
    "image_variants",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("width", Integer, primary_key=True),
    Column("ext", String(8), primary_key=True),
    Column("height", Integer, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
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

# The public search index (``search.py``): one row per live page, written in the flush that renders
# it and deleted with it. ``document`` is the weighted tsvector on PostgreSQL (title A, tags and
# categories B, body D) and ``head`` its title and tags part; on SQLite both stay empty and the FTS5 table ``search_fts`` (created by the
# migration, not declared here: Alembic cannot model virtual tables) holds the stems, rowid = ``id``.
search_docs = Table(
    "search_docs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(36), nullable=False, unique=True),
    Column("lang", String(8), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("body", Text, nullable=False),  # plain text, for the snippets
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("document", TSVECTOR().with_variant(Text(), "sqlite"), nullable=True),
    # PostgreSQL: the title and tags part of ``document`` alone, small enough to rank thousands of
    # matches per query (``document`` and ``body`` are stored out of line, see migration 0006).
    Column("head", TSVECTOR().with_variant(Text(), "sqlite"), nullable=True),
)
Index("ix_search_docs_document", search_docs.c.document, postgresql_using="gin")
# Tables created by hand in the migrations and left out of the models-vs-migration comparison
# (``deploy.migrate``): the FTS5 table and the shadow tables SQLite keeps for it.
UNMODELLED_TABLE_PREFIXES = ("search_fts",)

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

# The newest article event applied per article (ingest's per-article sequence): an older event that
# arrives late, such as a publish overtaken by its unpublish, changes nothing.
applied_seq = Table(
    "applied_seq",
    metadata,
    Column("article_id", String(36), primary_key=True),
    Column("seq", Integer, nullable=False),
)

# Editors' previews: an article revision's page as publishing it now would render it (never on the site).
previews = Table(
    "previews",
    metadata,
    Column("article_id", String(36), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("lang", String(8), nullable=False),
    Column("html", Text, nullable=False),
    Column("rendered_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
