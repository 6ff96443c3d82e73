"""Release 0.2.0: approval bound to a revision, the edit table's assignments, accounts that can be
deactivated, several authors and categories, import keys, WordPress import jobs, event sequences.

WordPress imports were keyed by guid; they are now keyed by ``dedupe_key`` (site + post id, else
guid), so existing rows get ``guid:<guid>``, the key the importer gives a post it finds by guid.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:04:35.463838
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('translation_assignments',
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('translator', sa.String(length=320), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'lang')
    )
    op.create_table('wxr_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('default_lang', sa.String(length=8), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('wxr_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wxr_jobs_status'), ['status'], unique=False)

    op.create_table('wxr_job_posts',
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('dedupe_key', sa.String(length=600), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('row', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['wxr_jobs.id'], ),
    sa.PrimaryKeyConstraint('job_id', 'dedupe_key')
    )
    with op.batch_alter_table('wxr_job_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wxr_job_posts_outcome'), ['outcome'], unique=False)

    with op.batch_alter_table('article_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('source_url', sa.Text(), nullable=True))
        batch_op.create_unique_constraint('uq_article_imports_import_key', ['import_key'])

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('authors', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('categories', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('approved_revision', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), server_default='0', nullable=False))

    # 0.1.0 kept no approved revision: an approved, scheduled or publishing article ships the
    # revision it holds (what 0.1.0 would have shipped), a published one keeps its live revision.
    op.execute("UPDATE articles SET approved_revision = revision "
               "WHERE state IN ('approved', 'scheduled', 'publishing')")
    op.execute("UPDATE articles SET approved_revision = published_revision "
               "WHERE state IN ('published', 'unpublished') AND published_revision IS NOT NULL")

    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('authors', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('categories', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('source_hash', sa.String(length=64), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))

    # The primary key changes, so the table is rebuilt (the same way on SQLite and PostgreSQL).
    op.create_table('wxr_imports_new',
    sa.Column('dedupe_key', sa.String(length=600), nullable=False),
    sa.Column('site', sa.String(length=500), nullable=True),
    sa.Column('guid', sa.String(length=500), nullable=False),
    sa.Column('article_id', sa.String(length=36), nullable=False),
    sa.Column('post_id', sa.String(length=40), nullable=True),
    sa.Column('wp_status', sa.String(length=20), nullable=False),
    sa.Column('wp_date', sa.String(length=40), nullable=True),
    sa.Column('excerpt', sa.Text(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.PrimaryKeyConstraint('dedupe_key')
    )
    op.execute("INSERT INTO wxr_imports_new (dedupe_key, site, guid, article_id, post_id, wp_status, wp_date, excerpt, "
               "imported_at) SELECT 'guid:' || guid, NULL, guid, article_id, post_id, wp_status, wp_date, excerpt, "
               "imported_at FROM wxr_imports")
    with op.batch_alter_table('wxr_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_wxr_imports_article_id')
    op.drop_table('wxr_imports')
    op.rename_table('wxr_imports_new', 'wxr_imports')
    with op.batch_alter_table('wxr_imports', schema=None) as batch_op:
        batch_op.create_index('ix_wxr_imports_article_id', ['article_id'], unique=False)
        batch_op.create_index('ix_wxr_imports_guid', ['guid'], unique=False)



def downgrade() -> None:
    """Revert this migration."""
    op.create_table('wxr_imports_old',
    sa.Column('guid', sa.String(length=500), nullable=False),
    sa.Column('article_id', sa.String(length=36), nullable=False),
    sa.Column('post_id', sa.String(length=40), nullable=True),
    sa.Column('wp_status', sa.String(length=20), nullable=False),
    sa.Column('wp_date', sa.String(length=40), nullable=True),
    sa.Column('excerpt', sa.Text(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.PrimaryKeyConstraint('guid')
    )
    # Two sites' posts with one guid cannot both stay under the old key: the first imported wins.
    op.execute("INSERT INTO wxr_imports_old (guid, article_id, post_id, wp_status, wp_date, excerpt, imported_at) "
               "SELECT guid, MIN(article_id), MIN(post_id), MIN(wp_status), MIN(wp_date), MIN(excerpt), MIN(imported_at) "
               "FROM wxr_imports GROUP BY guid")
    with op.batch_alter_table('wxr_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_wxr_imports_guid')
        batch_op.drop_index('ix_wxr_imports_article_id')
    op.drop_table('wxr_imports')
    op.rename_table('wxr_imports_old', 'wxr_imports')
    with op.batch_alter_table('wxr_imports', schema=None) as batch_op:
        batch_op.create_index('ix_wxr_imports_article_id', ['article_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('active')

    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_column('source_hash')
        batch_op.drop_column('categories')
        batch_op.drop_column('authors')

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('seq')
        batch_op.drop_column('approved_revision')
        batch_op.drop_column('categories')
        batch_op.drop_column('authors')

    with op.batch_alter_table('article_imports', schema=None) as batch_op:
        batch_op.drop_constraint('uq_article_imports_import_key', type_='unique')
        batch_op.drop_column('source_url')
        batch_op.drop_column('import_key')

    with op.batch_alter_table('wxr_job_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wxr_job_posts_outcome'))

    op.drop_table('wxr_job_posts')
    with op.batch_alter_table('wxr_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wxr_jobs_status'))

    op.drop_table('wxr_jobs')
    op.drop_table('translation_assignments')
