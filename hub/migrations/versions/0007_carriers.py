"""e-waybills: carrier_accounts, waybill_queue

Issue 13 part A: real e-waybill providers per carrier account, and the persisted outbound queue
that fetches an order's waybill and cancels (回收) a voided one (docs/carriers.md "E-waybills").

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('carrier_accounts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('carrier', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('base_url', sa.Text(), nullable=False),
    sa.Column('sender', sa.JSON(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_kind', sa.String(length=32), nullable=True),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('carrier', name='uq_carrier_accounts_carrier')
    )
    op.create_table('waybill_queue',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('dedupe_key', sa.String(length=80), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('order_code', sa.String(length=40), nullable=False),
    sa.Column('carrier', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('waybill', sa.String(length=40), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key', name='uq_waybill_queue_dedupe')
    )
    with op.batch_alter_table('waybill_queue', schema=None) as batch_op:
        batch_op.create_index('ix_waybill_queue_due', ['done_at', 'refused_at', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_waybill_queue_order', ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('waybill_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_waybill_queue_order')
        batch_op.drop_index('ix_waybill_queue_due')
    op.drop_table('waybill_queue')
    op.drop_table('carrier_accounts')
