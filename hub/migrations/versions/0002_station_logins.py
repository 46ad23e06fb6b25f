"""station_logins: who has logged in on which station, kept for good

An action a bench queued offline is credited to the operator who did it (not to whoever is
logged in when it syncs) only if that operator has logged in on the station. Seeded from the
tokens still on file, so an upgraded hub keeps crediting the benches' current operators.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('station_logins',
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('station', 'operator')
    )
    op.execute(
        "INSERT INTO station_logins (station, operator, last_login_at) "
        "SELECT station, operator, MAX(expires_at) FROM tokens GROUP BY station, operator"
    )


def downgrade() -> None:
    op.drop_table('station_logins')
