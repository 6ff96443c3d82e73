"""media library and featured images

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:03:43.926400
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('media',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('alt', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('caption', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('credit', sa.Text(), nullable=True),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('featured_image', sa.String(length=36), nullable=True))

    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('featured_image', sa.String(length=36), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_column('featured_image')

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('featured_image')

    op.drop_table('media')
