"""stations need approval; login back-off, lockout and audit; indexes to end tokens at once

Stations get a status (pending / approved / revoked), the device they are bound to and the last
request waiting for a supervisor. Stations that exist already were in use before approval
existed: they stay usable (approved), bound to the device that last synced as them, so an
upgrade does not stop every bench; a site reviews them with ``hub station list``
(docs/security.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('device_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('requested_bench', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('requested_device_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('requested_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE stations SET status = 'approved', approved_by = 'migration-0003', "
               "device_id = (SELECT MAX(d.device_id) FROM devices d WHERE d.station = stations.name)")
    op.create_table('login_guard',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('login_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=False),
    sa.Column('station', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('result', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_at', ['at'], unique=False)
        batch_op.create_index('ix_login_attempts_operator', ['operator', 'id'], unique=False)
    op.create_table('security_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('what', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index('ix_tokens_operator', ['operator'], unique=False)
        batch_op.create_index('ix_tokens_station', ['station'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_tokens_station')
        batch_op.drop_index('ix_tokens_operator')
    op.drop_table('security_events')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_operator')
        batch_op.drop_index('ix_login_attempts_at')
    op.drop_table('login_attempts')
    op.drop_table('login_guard')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        for col in ('approved_at', 'approved_by', 'requested_at', 'requested_by', 'requested_device_id',
                    'requested_bench', 'device_id', 'status'):
            batch_op.drop_column(col)
