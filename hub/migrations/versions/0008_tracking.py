"""carrier tracking: tracking_subscriptions, tracking_inbox, tracking_events

Issue 13 part C: every shipped waybill is subscribed at the tracking provider (快递100) and its
pushes are stored, merged and mapped to triggers (docs/tracking.md).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('tracking_subscriptions',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('carrier', sa.String(length=16), nullable=False),
    sa.Column('waybill', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('subscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'waybill', name='uq_tracking_sub_order_waybill')
    )
    with op.batch_alter_table('tracking_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_sub_due', ['subscribed_at', 'refused_at', 'next_attempt_at'], unique=False)
    op.create_table('tracking_inbox',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('msg_key', sa.String(length=64), nullable=False),
    sa.Column('waybill', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'msg_key', name='uq_tracking_inbox_msg')
    )
    with op.batch_alter_table('tracking_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_inbox_due', ['applied_at', 'next_attempt_at'], unique=False)
    op.create_table('tracking_events',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('waybill', sa.String(length=40), nullable=False),
    sa.Column('event_key', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('raw_code', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'event_key', name='uq_tracking_events_key')
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_events_order_at', ['order_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_events_order_at')
    op.drop_table('tracking_events')
    with op.batch_alter_table('tracking_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_inbox_due')
    op.drop_table('tracking_inbox')
    with op.batch_alter_table('tracking_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_sub_due')
    op.drop_table('tracking_subscriptions')
