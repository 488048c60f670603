"""routing's copy of an item keeps its national codes, for case exports (issue 17, national codes and exports)

Revision ID: 0014_exports
Revises: 0013_status_query_failures
Create Date: 2026-12-02 20:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0014_exports'
down_revision: Union[str, Sequence[str], None] = '0013_status_query_failures'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('known_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('national_code', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('implementation_codes', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('known_items', schema=None) as batch_op:
        batch_op.drop_column('implementation_codes')
        batch_op.drop_column('national_code')
