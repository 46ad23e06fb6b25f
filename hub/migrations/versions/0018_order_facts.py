"""the dashboard's facts as columns: paid, ship-by, shipped, packed (by whom, when)

Issue 16: every dashboard figure is computed in SQL at 1,000,000 orders (p95 < 200 ms on
PostgreSQL), so the times it filters and groups on are columns with indexes, not keys inside the
JSON document (docs/metrics.md). Existing orders are filled from their documents here.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None

_BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ship_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('packed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('packed_at', sa.DateTime(timezone=True), nullable=True))
        # Wide on purpose: each figure reads its index alone (index-only scans on PostgreSQL).
        batch_op.create_index('ix_orders_intake', ['created_at', 'state', 'held', 'warehouse', 'channel', 'bench',
                                                   'ship_by', 'shipped_at'], unique=False)
        batch_op.create_index('ix_orders_promise', ['ship_by', 'shipped_at', 'state', 'warehouse', 'channel', 'bench'],
                              unique=False)
        batch_op.create_index('ix_orders_packed', ['packed_at', 'bench', 'packed_by', 'warehouse', 'channel'],
                              unique=False)
        batch_op.create_index('ix_orders_backlog', ['state', 'bench', 'paid_at', 'warehouse', 'channel'], unique=False)
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index('ix_audit_what_at', ['what', 'at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # Index-only scans need the visibility map current: vacuum orders after 2 % of its rows
        # changed, not the default 20 % (a peak day changes today's orders all day).
        op.execute('ALTER TABLE orders SET (autovacuum_vacuum_scale_factor = 0.02, '
                   'autovacuum_analyze_scale_factor = 0.02)')
    _fill()


def _fill() -> None:
    """Existing orders: the columns from their documents (shipped: the audit's first ship)."""
    from hub.facts import facts_of

    bind = op.get_bind()
    orders = sa.table('orders', sa.column('order_id', sa.String), sa.column('doc', sa.JSON),
                      sa.column('paid_at', sa.DateTime(timezone=True)),
                      sa.column('ship_by', sa.DateTime(timezone=True)),
                      sa.column('shipped_at', sa.DateTime(timezone=True)),
                      sa.column('packed_by', sa.String), sa.column('packed_at', sa.DateTime(timezone=True)))
    audit = sa.table('audit', sa.column('order_id', sa.String), sa.column('what', sa.String),
                     sa.column('at', sa.DateTime(timezone=True)))
    shipped = dict(bind.execute(
        sa.select(audit.c.order_id, sa.func.min(audit.c.at))
        .where(audit.c.what.in_(['shipped_by_station', 'picked_up_by_carrier'])).group_by(audit.c.order_id)).all())
    last = ''
    while True:
        rows = bind.execute(sa.select(orders.c.order_id, orders.c.doc).where(orders.c.order_id > last)
                            .order_by(orders.c.order_id).limit(_BATCH)).all()
        if not rows:
            break
        last = rows[-1][0]
        values = []
        for oid, doc in rows:
            f = facts_of(doc)
            if f['shipped_at'] is None:
                f['shipped_at'] = shipped.get(oid)
            values.append({'b_id': oid, **f})
        bind.execute(orders.update().where(orders.c.order_id == sa.bindparam('b_id')), values)


def downgrade() -> None:
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_what_at')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_backlog')
        batch_op.drop_index('ix_orders_packed')
        batch_op.drop_index('ix_orders_promise')
        batch_op.drop_index('ix_orders_intake')
        batch_op.drop_column('packed_at')
        batch_op.drop_column('packed_by')
        batch_op.drop_column('shipped_at')
        batch_op.drop_column('ship_by')
        batch_op.drop_column('paid_at')
