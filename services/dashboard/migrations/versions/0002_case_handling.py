"""cases: when each was accepted and decided (handling time and on-time rate per locality and week)

Revision ID: 0002_case_handling
Revises: 0001
Create Date: 2026-12-02 04:50:00

Cases folded before this revision have no times: they are left out of the handling figures.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002_case_handling'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Three nullable columns and an index on the decision time."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handled_status', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_handled_at'), ['handled_at'], unique=False)


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_handled_at'))
        batch_op.drop_column('handled_status')
        batch_op.drop_column('handled_at')
        batch_op.drop_column('accepted_at')
