"""Release 0.2.0: notification's outbox goes (the service emits no events; 0.1.0 never wrote to it).

A row there could only be an event 0.1.0 had already sent; an unsent one stops the upgrade
instead of being dropped, so nothing is lost silently.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:07:05
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

outbox = sa.table('outbox', sa.column('event_id', sa.String), sa.column('sent_at', sa.DateTime(timezone=True)))


def upgrade() -> None:
    """Drop the outbox table unless it holds an unsent event."""
    unsent = op.get_bind().execute(
        sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar_one()
    if unsent:
        raise RuntimeError(
            f"notification's outbox holds {unsent} unsent event(s); start release 0.1.0's notification "
            "worker and beat until they are sent (its relay_outbox sweep), then upgrade again")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_pending'))
    op.drop_table('outbox')


def downgrade() -> None:
    """Recreate the (empty) outbox table of release 0.1.0."""
    op.create_table('outbox',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('envelope', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('send_attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_pending'), ['sent_at', 'created_at'], unique=False)
