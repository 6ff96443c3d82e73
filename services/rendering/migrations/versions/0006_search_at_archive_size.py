"""search at archive size

At 30,000 pages a common word matched 9,000 pages of a language, and the query spent its time on
every match rather than on the ten shown.

- SQLite: the FTS5 table ``search_fts`` gains a ``lang`` column, so a query filters by language,
  counts and ranks inside FTS5 instead of joining ``search_docs`` per match. The table is rebuilt
  from its own stored columns plus ``search_docs.lang``; nothing is stemmed again.
- PostgreSQL: ``search_docs.head`` holds the title and tags part of ``document`` (filled here with
  ``ts_filter``), which is all the ranking reads; ``document`` and ``body`` are stored out of line,
  so the rows a query visits stay small. Existing rows are rewritten once for that.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('search_docs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head', postgresql.TSVECTOR().with_variant(sa.Text(), 'sqlite'), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_fts_new USING fts5(title, tags, body, lang, "
                   "tokenize = 'unicode61 remove_diacritics 0')")
        op.execute("INSERT INTO search_fts_new (rowid, title, tags, body, lang) "
                   "SELECT f.rowid, f.title, f.tags, f.body, d.lang FROM search_fts f JOIN search_docs d ON d.id = f.rowid")
        op.execute("DROP TABLE search_fts")
        op.execute("ALTER TABLE search_fts_new RENAME TO search_fts")
        return
    op.execute("ALTER TABLE search_docs ALTER COLUMN document SET STORAGE EXTERNAL")
    op.execute("ALTER TABLE search_docs ALTER COLUMN body SET STORAGE EXTERNAL")
    # New values (not the stored ones) so that the new storage applies to the rows already there.
    op.execute("UPDATE search_docs SET head = ts_filter(document, '{a,b}'), "
               "document = document || ''::tsvector, body = body || ''")


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_fts_old USING fts5(title, tags, body, "
                   "tokenize = 'unicode61 remove_diacritics 0')")
        op.execute("INSERT INTO search_fts_old (rowid, title, tags, body) SELECT rowid, title, tags, body FROM search_fts")
        op.execute("DROP TABLE search_fts")
        op.execute("ALTER TABLE search_fts_old RENAME TO search_fts")
    else:
        op.execute("ALTER TABLE search_docs ALTER COLUMN document SET STORAGE EXTENDED")
        op.execute("ALTER TABLE search_docs ALTER COLUMN body SET STORAGE EXTENDED")
    with op.batch_alter_table('search_docs', schema=None) as batch_op:
        batch_op.drop_column('head')
