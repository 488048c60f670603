"""the evaluations panel's table (好差评, issue 17)

Revision ID: 0006_evaluations
Revises: 0005_webhook_health
Create Date: 2026-12-02 20:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006_evaluations'
down_revision: Union[str, Sequence[str], None] = '0005_webhook_health'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'evaluations',
        sa.Column('evaluation_id', sa.String(length=64), primary_key=True),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('locality', sa.String(length=16), nullable=False),
        sa.Column('item_code', sa.String(length=64), nullable=False),
        sa.Column('level', sa.String(length=32), nullable=True),
        sa.Column('rectification', sa.String(length=16), nullable=False),
        sa.Column('due_on', sa.String(length=10), nullable=True),
    )
    op.create_index('ix_evaluations_locality', 'evaluations', ['locality'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('evaluations')
