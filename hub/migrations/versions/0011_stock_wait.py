"""orders waiting for stock: orders.stock_wait and a partial index on it

Issue 14, the release side: the short-stock figure (GET /api/v1/metrics/short-stock) and the fair
queue (stock.release_waiting) read only the open orders held for stock. Narrowed by `held` and
the state index, at 1,000,000 orders they read and parsed every held order's document (about
3 s, bench/allocation.py); `stock_wait` (an open `stock_short` or `gift_stock` hold, kept by the
writer with `held`) and its partial index read only those (docs/stock.md "Benchmark").

Revision ID: 0011
Revises: 0018
Create Date: 2026-12-06
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0018'
branch_labels = None
depends_on = None

SHORT_HOLDS = ('stock_short', 'gift_stock')


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stock_wait', sa.Boolean(), nullable=False, server_default=sa.false()))
    conn = op.get_bind()
    orders = sa.table('orders', sa.column('order_id', sa.String), sa.column('held', sa.Boolean),
                      sa.column('doc', sa.JSON), sa.column('stock_wait', sa.Boolean))
    waiting = []
    for oid, doc in conn.execute(sa.select(orders.c.order_id, orders.c.doc).where(orders.c.held.is_(True))):
        if isinstance(doc, str):
            doc = json.loads(doc)
        if any(isinstance(h, dict) and h.get('type') in SHORT_HOLDS for h in (doc or {}).get('holds') or []):
            waiting.append(oid)
    for i in range(0, len(waiting), 500):
        conn.execute(sa.update(orders).where(orders.c.order_id.in_(waiting[i:i + 500])).values(stock_wait=True))
    op.create_index('ix_orders_stock_wait', 'orders', ['warehouse', 'state'], unique=False,
                    postgresql_where=sa.text('stock_wait'), sqlite_where=sa.text('stock_wait = 1'))


def downgrade() -> None:
    op.drop_index('ix_orders_stock_wait', table_name='orders')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('stock_wait')
