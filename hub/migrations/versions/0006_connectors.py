"""shop connectors: connectors, connector_orders, channel_inbox, ship_queue

Issue 12: the hub pulls and receives orders from the shop platforms itself and writes shipments
back (docs/channels.md "Connectors"). ``down_revision`` is 0004: the integrator re-chains it after
issue 11's 0005 lands.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('connectors',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('app_key', sa.String(length=128), nullable=False),
    sa.Column('app_secret', sa.Text(), nullable=False),
    sa.Column('base_url', sa.Text(), nullable=False),
    sa.Column('interval_s', sa.Float(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=True),
    sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_token', sa.Text(), nullable=True),
    sa.Column('refresh_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pull_cursor', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_pull_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_pull_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('newest_update_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('orders_day', sa.String(length=10), nullable=True),
    sa.Column('orders_today', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_kind', sa.String(length=32), nullable=True),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'shop_id', name='uq_connectors_platform_shop')
    )
    op.create_table('connector_orders',
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('order_id')
    )
    op.create_table('channel_inbox',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('msg_key', sa.String(length=128), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('channel_order_no', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('channel_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_json', sa.JSON(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'msg_key', 'channel_order_no', name='uq_channel_inbox_msg')
    )
    with op.batch_alter_table('channel_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_channel_inbox_due', ['applied_at', 'next_attempt_at'], unique=False)
    op.create_table('ship_queue',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('channel_order_no', sa.String(length=64), nullable=False),
    sa.Column('carrier', sa.String(length=16), nullable=False),
    sa.Column('waybill', sa.String(length=40), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'waybill', name='uq_ship_queue_order_waybill')
    )
    with op.batch_alter_table('ship_queue', schema=None) as batch_op:
        batch_op.create_index('ix_ship_queue_due', ['sent_at', 'refused_at', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ship_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_ship_queue_due')
    op.drop_table('ship_queue')
    with op.batch_alter_table('channel_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_inbox_due')
    op.drop_table('channel_inbox')
    op.drop_table('connector_orders')
    op.drop_table('connectors')
