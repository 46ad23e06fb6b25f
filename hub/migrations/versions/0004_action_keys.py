"""action_keys; action_results keyed by (device_id, action_id)

action_keys: the per-login keys a device signs an operator's outbox actions with (issue 9, item 4).
action_results: the idempotency key becomes (device_id, action_id): another device reusing an
action_id must have its own action processed, not read the first device's stored answer (issue 9,
item 6). The table is rebuilt (copy, drop, rename): SQLite cannot change a primary key in place,
and one way for both databases keeps the migration simple. Existing answers are all kept.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _action_results(name: str, *pk: str) -> None:
    op.create_table(name,
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('action_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint(*pk)
    )


def _rebuild_action_results(*pk: str) -> None:
    _action_results('action_results_new', *pk)
    op.execute("INSERT INTO action_results_new (device_id, action_id, seq, order_id, outcome, at, response) "
               "SELECT device_id, action_id, seq, order_id, outcome, at, response FROM action_results")
    with op.batch_alter_table('action_results', schema=None) as batch_op:
        batch_op.drop_index('ix_action_results_device_seq')
    op.drop_table('action_results')
    op.rename_table('action_results_new', 'action_results')
    with op.batch_alter_table('action_results', schema=None) as batch_op:
        batch_op.create_index('ix_action_results_device_seq', ['device_id', 'seq'], unique=False)


def upgrade() -> None:
    op.create_table('action_keys',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id')
    )
    with op.batch_alter_table('action_keys', schema=None) as batch_op:
        batch_op.create_index('ix_action_keys_expires', ['expires_at'], unique=False)
    _rebuild_action_results('device_id', 'action_id')


def downgrade() -> None:
    # Back to one answer per action_id: where two devices used the same one, the first answer stays.
    op.execute("DELETE FROM action_results WHERE EXISTS (SELECT 1 FROM action_results o "
               "WHERE o.action_id = action_results.action_id AND o.device_id < action_results.device_id)")
    _rebuild_action_results('action_id')
    with op.batch_alter_table('action_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_action_keys_expires')
    op.drop_table('action_keys')
