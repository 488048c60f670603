"""the applicant's evaluations (好差评) and their rectifications and appeals (issue 17)

Revision ID: 0014_evaluations
Revises: 0013_status_query_failures
Create Date: 2026-12-02 20:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0014_evaluations'
down_revision: Union[str, Sequence[str], None] = '0014_exports'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'evaluations',
        sa.Column('id', sa.String(length=36), primary_key=True),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('item_code', sa.String(length=32), nullable=False),
        sa.Column('level', sa.String(length=32), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('responsible_locality', sa.String(length=6), nullable=False),
        sa.Column('involved', sa.JSON(), nullable=False),
        sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('given_on', sa.Date(), nullable=False),
        sa.Column('rectification_status', sa.String(length=16), nullable=True),
        sa.Column('opened_on', sa.Date(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('provisional', sa.Boolean(), nullable=False),
        sa.Column('call_backs', sa.JSON(), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('overdue_notified', sa.Boolean(), nullable=False),
        sa.Column('appeal', sa.JSON(), nullable=True),
        sa.UniqueConstraint('case_id', 'channel', name='uq_evaluations_case_channel'),
    )
    op.create_index('ix_evaluations_case_id', 'evaluations', ['case_id'])
    op.create_index('ix_evaluations_item_code', 'evaluations', ['item_code'])
    op.create_index('ix_evaluations_responsible_locality', 'evaluations', ['responsible_locality'])
    op.create_index('ix_evaluations_rectification_status', 'evaluations', ['rectification_status'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('evaluations')
