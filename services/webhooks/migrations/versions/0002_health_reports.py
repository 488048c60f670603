"""health reports: the last webhook health report of each locality; deliveries by delivery time

Revision ID: 0002_health_reports
Revises: 0001_webhooks_initial
Create Date: 2026-12-03 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002_health_reports'
down_revision: Union[str, Sequence[str], None] = '0001_webhooks_initial'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('health_reports',
    sa.Column('locality', sa.String(length=6), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('locality')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_delivered', ['delivered_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_delivered')
    op.drop_table('health_reports')
