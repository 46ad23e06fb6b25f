"""where stock comes from: the WMS's as-of time per stock row, a note on each stock move

Issue 14, second part: adjustments with a reason and a note, the signed WMS push with absolute
counts (an older message never overwrites a newer one: ``stock.wms_as_of``) (docs/stock.md).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wms_as_of', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.drop_column('note')
    with op.batch_alter_table('stock', schema=None) as batch_op:
        batch_op.drop_column('wms_as_of')
