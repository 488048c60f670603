"""cases follow their posts: each waybill's flow and status, and a delivery exception (issue 16, defects 1-2)

Revision ID: 0008_case_posts
Revises: 0007_case_file_ciphers
Create Date: 2026-12-02 17:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008_case_posts'
down_revision: Union[str, Sequence[str], None] = '0007_case_file_ciphers'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('waybill_states', sa.JSON(), server_default='[]', nullable=False))
        batch.add_column(sa.Column('delivery_exception', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('delivery_exception')
        batch.drop_column('waybill_states')
