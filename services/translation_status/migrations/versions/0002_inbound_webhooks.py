"""Release 0.2.0: processed vendor webhooks move to the shared inbound_webhooks table, rows kept.

The new table (shared/signed.py) also stores a hash of each body and the answer as JSON. Rows
from 0.1.0 have no hash: they get an empty one, which shared/signed.py treats as "unknown" (a
retry of such an id gets its first answer, as in 0.1.0). They expire after 7 days like any row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:07:03
"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
processed_webhooks = sa.table(
    'processed_webhooks', sa.column('webhook_id', sa.String), sa.column('status_code', sa.Integer),
    sa.column('response', sa.Text), sa.column('received_at', sa.DateTime(timezone=True)))


def upgrade() -> None:
    """Create inbound_webhooks, copy every processed_webhooks row into it, drop the old table."""
    inbound = op.create_table('inbound_webhooks',
    sa.Column('webhook_id', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', JSON_TYPE, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('webhook_id')
    )
    with op.batch_alter_table('inbound_webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_webhooks_received_at'), ['received_at'], unique=False)

    rows = op.get_bind().execute(sa.select(processed_webhooks)).mappings().all()
    if rows:
        op.bulk_insert(inbound, [
            {'webhook_id': r['webhook_id'], 'request_hash': '', 'status_code': r['status_code'],
             'response': json.loads(r['response']), 'received_at': r['received_at']} for r in rows])

    with op.batch_alter_table('processed_webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_webhooks_received_at'))
    op.drop_table('processed_webhooks')


def downgrade() -> None:
    """Back to processed_webhooks, rows kept (their body hashes are dropped)."""
    old = op.create_table('processed_webhooks',
    sa.Column('webhook_id', sa.String(length=200), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('webhook_id')
    )
    with op.batch_alter_table('processed_webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_webhooks_received_at'), ['received_at'], unique=False)
    inbound = sa.table('inbound_webhooks', sa.column('webhook_id', sa.String), sa.column('status_code', sa.Integer),
                       sa.column('response', JSON_TYPE), sa.column('received_at', sa.DateTime(timezone=True)))
    rows = op.get_bind().execute(sa.select(inbound)).mappings().all()
    if rows:
        op.bulk_insert(old, [
            {'webhook_id': r['webhook_id'], 'status_code': r['status_code'], 'response': json.dumps(r['response']),
             'received_at': r['received_at']} for r in rows])
    with op.batch_alter_table('inbound_webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_webhooks_received_at'))
    op.drop_table('inbound_webhooks')
