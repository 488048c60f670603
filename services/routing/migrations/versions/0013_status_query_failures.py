"""failed status queries counted per source address and window, as the token endpoint counts its (issue 16, G)

Revision ID: 0013_status_query_failures
Revises: 0012_documents_and_query_codes
Create Date: 2026-12-02 19:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013_status_query_failures'
down_revision: Union[str, Sequence[str], None] = '0012_documents_and_query_codes'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'status_query_failures',
        sa.Column('key', sa.String(length=200), primary_key=True),
        sa.Column('window_start', sa.BigInteger(), primary_key=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locality', sa.String(length=16), nullable=False),
        sa.Column('audit', sa.Boolean(), nullable=False),
        sa.Column('audited', sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('status_query_failures')
