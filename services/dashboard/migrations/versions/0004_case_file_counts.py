"""case file counts: how many files each case holds and whether they are complete

Revision ID: 0002_case_file_counts
Revises: 0002_login_throttle
Create Date: 2026-12-02 05:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002_case_file_counts'
down_revision: Union[str, Sequence[str], None] = '0002_login_throttle'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('files_in', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('files_complete', sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('files_complete')
        batch_op.drop_column('files_in')
