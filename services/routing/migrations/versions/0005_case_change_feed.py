"""case change feed: a commit-ordered stamp on each case's last change

Revision ID: 0003_case_change_feed
Revises: 0003_calendar_versions
Create Date: 2026-12-02 04:50:00

Cases that existed before keep stamp 0: the feed lists them first (still filtered by their time).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003_case_change_feed'
down_revision: Union[str, Sequence[str], None] = '0003_calendar_versions'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_seq', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.create_index('ix_cases_change_seq_id', ['change_seq', 'id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_change_seq_id')
        batch_op.drop_column('change_seq')
