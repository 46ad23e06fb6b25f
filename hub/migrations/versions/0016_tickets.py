"""customer tickets (工单), their events and contact episodes; the change feed's entity kind

Issue 15 (docs/tickets.md): tickets at the hub, the touchpoint metric over ``ticket_episodes``,
and ``changes.kind`` so ticket changes travel in the same feed as orders (docs/sync.md).

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'tickets',
        sa.Column('ticket_id', sa.String(length=40), nullable=False),
        sa.Column('order_id', sa.String(length=32), nullable=False),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('vip', sa.Boolean(), nullable=False),
        sa.Column('assignee', sa.String(length=32), nullable=True),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('doc', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('ticket_id'),
    )
    op.create_index('ix_tickets_order', 'tickets', ['order_id'])
    op.create_index('ix_tickets_status_due', 'tickets', ['status', 'due_at'])
    op.create_index('ix_tickets_assignee_status', 'tickets', ['assignee', 'status'])
    op.create_table(
        'ticket_events',
        sa.Column('id', big, autoincrement=True, nullable=False),
        sa.Column('ticket_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('operator', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('action_id', sa.String(length=64), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ticket_events_ticket', 'ticket_events', ['ticket_id', 'id'])
    op.create_table(
        'ticket_episodes',
        sa.Column('id', big, autoincrement=True, nullable=False),
        sa.Column('ticket_id', sa.String(length=40), nullable=False),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('week', sa.String(length=10), nullable=False),
        sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('first_reply_s', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_s', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ticket_episodes_day', 'ticket_episodes', ['day'])
    op.create_index('ix_ticket_episodes_week', 'ticket_episodes', ['week'])
    op.create_index('ix_ticket_episodes_ticket', 'ticket_episodes', ['ticket_id'])
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), nullable=False, server_default='order'))


def downgrade() -> None:
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_column('kind')
    op.drop_table('ticket_episodes')
    op.drop_table('ticket_events')
    op.drop_table('tickets')
