"""search: the language in the FTS5 table

On SQLite the FTS5 table ``search_fts`` gains a ``lang`` column, so a query filters by language,
counts and ranks inside FTS5 instead of joining ``search_docs`` for every match (at 30,000 pages a
common word matched 9,000 rows, and the join and sort cost most of the query). The table is
rebuilt from its own stored columns plus ``search_docs.lang``: nothing is stemmed again. Nothing
changes on PostgreSQL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:40:00
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE VIRTUAL TABLE search_fts_new USING fts5(title, tags, body, lang, "
               "tokenize = 'unicode61 remove_diacritics 0')")
    op.execute("INSERT INTO search_fts_new (rowid, title, tags, body, lang) "
               "SELECT f.rowid, f.title, f.tags, f.body, d.lang FROM search_fts f JOIN search_docs d ON d.id = f.rowid")
    op.execute("DROP TABLE search_fts")
    op.execute("ALTER TABLE search_fts_new RENAME TO search_fts")


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE VIRTUAL TABLE search_fts_old USING fts5(title, tags, body, "
               "tokenize = 'unicode61 remove_diacritics 0')")
    op.execute("INSERT INTO search_fts_old (rowid, title, tags, body) SELECT rowid, title, tags, body FROM search_fts")
    op.execute("DROP TABLE search_fts")
    op.execute("ALTER TABLE search_fts_old RENAME TO search_fts")
