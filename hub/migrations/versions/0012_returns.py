"""returns at the bench: a quarantine count per stock row, and its delta on each stock move

Issue 14, returns (退货入库): a returned unit graded good goes back on hand; one graded damaged is
counted in ``stock.quarantine`` (not on hand, never available) (docs/returns.md).

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quarantine', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delta_quarantine', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.drop_column('delta_quarantine')
    with op.batch_alter_table('stock', schema=None) as batch_op:
        batch_op.drop_column('quarantine')
