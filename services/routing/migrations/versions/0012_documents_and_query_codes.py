"""the item's Chinese name for the applicant's documents, and the case's sealed query code (issue 16, F-G)

Revision ID: 0012_documents_and_query_codes
Revises: 0011_one_time_notices
Create Date: 2026-12-02 19:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012_documents_and_query_codes'
down_revision: Union[str, Sequence[str], None] = '0011_one_time_notices'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('known_items') as batch:
        batch.add_column(sa.Column('name_zh', sa.String(length=200), server_default='', nullable=False))
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('query_code_sealed', sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('query_code_sealed')
    with op.batch_alter_table('known_items') as batch:
        batch.drop_column('name_zh')
