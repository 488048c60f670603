"""one-time notices and the supplements that answer them (issue 16, part E)

Revision ID: 0011_one_time_notices
Revises: 0010_case_standards
Create Date: 2026-12-02 18:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011_one_time_notices'
down_revision: Union[str, Sequence[str], None] = '0010_case_standards'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('notices', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('notices')
