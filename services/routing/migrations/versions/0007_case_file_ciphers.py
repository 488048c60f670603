"""case files name their cipher and carry SM3 beside SHA-256 (issue 19, national suite)

Revision ID: 0007_case_file_ciphers
Revises: 0003_case_files
Create Date: 2026-12-03 09:00:00

Files stored before this revision are AES-256-GCM: the server default says so for every existing row.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007_case_file_ciphers'
down_revision: Union[str, Sequence[str], None] = '0003_case_files'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('case_files') as batch:
        batch.add_column(sa.Column('cipher', sa.String(length=16), server_default='A256GCM', nullable=False))
        batch.add_column(sa.Column('sm3', sa.String(length=64), nullable=True))
    with op.batch_alter_table('case_file_downloads') as batch:
        batch.add_column(sa.Column('sm3', sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('case_file_downloads') as batch:
        batch.drop_column('sm3')
    with op.batch_alter_table('case_files') as batch:
        batch.drop_column('sm3')
        batch.drop_column('cipher')
