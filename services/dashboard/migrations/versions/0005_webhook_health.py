"""webhook health: failing subscriptions and each locality's last health report

Revision ID: 0005_webhook_health
Revises: 0002_case_file_counts
Create Date: 2026-12-03 09:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005_webhook_health'
down_revision: Union[str, Sequence[str], None] = '0002_case_file_counts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('webhook_subscriptions',
    sa.Column('subscription_id', sa.String(length=64), nullable=False),
    sa.Column('locality', sa.String(length=16), nullable=False),
    sa.Column('failing', sa.Boolean(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('undelivered', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subscription_id')
    )
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscriptions_locality'), ['locality'], unique=False)
    op.create_table('webhook_health',
    sa.Column('locality', sa.String(length=16), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_seconds', sa.Float(), nullable=False),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.Column('undelivered', sa.Integer(), nullable=False),
    sa.Column('oldest_undelivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_seconds', sa.Float(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('latency_p50_seconds', sa.Float(), nullable=True),
    sa.Column('latency_p95_seconds', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('locality')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('webhook_health')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscriptions_locality'))
    op.drop_table('webhook_subscriptions')
