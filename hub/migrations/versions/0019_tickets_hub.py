"""the SLA watcher's marker columns on tickets; the touchpoint metric's rank-read indexes

Issue 15, the hub's remaining pieces (docs/tickets.md "Overdue tickets → notification", "Measured"):

* ``tickets.sla_watch_at`` — the ticket's deadline still to be told when it passes (NULL when told or
  nothing due), with an index: the watcher reads only the tickets whose deadline has just passed, not
  every overdue one again each round; ``tickets.sla_notified_due`` — the last deadline told, so a
  change that leaves the deadline where it was does not arm it again. Open tickets with a deadline
  are armed here (a deadline already past is told once after the upgrade).
* ``ix_ticket_episodes_{day,week}_{first_reply_s,closed_s}`` — (bucket, value, type) where the value
  is set: the metric reads each bucket's k-th value by walking the index instead of sorting.

Revision ID: 0019_tickets_hub
Revises: 0011
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_tickets_hub'
down_revision = '0011'
branch_labels = None
depends_on = None

BUCKETS = ('day', 'week')
VALUES = ('first_reply_s', 'closed_s')


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_watch_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_notified_due', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE tickets SET sla_watch_at = due_at WHERE status = 'open' AND due_at IS NOT NULL")
    op.create_index('ix_tickets_sla_watch', 'tickets', ['sla_watch_at'], unique=False)
    for bucket in BUCKETS:
        for value in VALUES:
            op.create_index(f'ix_ticket_episodes_{bucket}_{value}', 'ticket_episodes', [bucket, value, 'type'],
                            unique=False, postgresql_where=sa.text(f'{value} IS NOT NULL'),
                            sqlite_where=sa.text(f'{value} IS NOT NULL'))


def downgrade() -> None:
    for bucket in BUCKETS:
        for value in VALUES:
            op.drop_index(f'ix_ticket_episodes_{bucket}_{value}', table_name='ticket_episodes')
    op.drop_index('ix_tickets_sla_watch', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('sla_notified_due')
        batch_op.drop_column('sla_watch_at')
