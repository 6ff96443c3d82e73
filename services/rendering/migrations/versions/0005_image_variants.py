"""image variants

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:03:54.288235
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('image_variants',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('ext', sa.String(length=8), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', 'width', 'ext')
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('image_variants')
