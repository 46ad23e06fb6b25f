"""notify_queue: notifications out to WeCom group robots and buyer SMS

Issue 15, notifications: one row per message, written with the change that caused it, drained
with lease, retries and back-off by hub/notify/worker.py (docs/notifications.md).

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notify_queue',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key', name='uq_notify_queue_dedupe')
    )
    with op.batch_alter_table('notify_queue', schema=None) as batch_op:
        batch_op.create_index('ix_notify_queue_due', ['done_at', 'refused_at', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notify_queue_order', ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notify_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_notify_queue_order')
        batch_op.drop_index('ix_notify_queue_due')
    op.drop_table('notify_queue')
