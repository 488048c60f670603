"""case files: files, downloads, legal holds, purges

Revision ID: 0003_case_files
Revises: 0003_case_change_feed
Create Date: 2026-12-02 04:50:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003_case_files'
down_revision: Union[str, Sequence[str], None] = '0003_case_change_feed'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'case_files',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('material', sa.String(length=200), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('object_key', sa.String(length=200), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
        sa.Column('nonce_prefix', sa.LargeBinary(), nullable=False),
        sa.Column('header_length', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_locality', sa.String(length=6), nullable=False),
        sa.Column('uploaded_by_client', sa.String(length=64), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'kind', 'sha256', name='uq_case_files_case_kind_sha256'),
        sa.UniqueConstraint('object_key'),
    )
    op.create_index('ix_case_files_case_id', 'case_files', ['case_id'])
    op.create_table(
        'case_file_downloads',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('file_id', sa.String(length=36), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('locality', sa.String(length=6), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('byte_range', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_file_downloads_case_id', 'case_file_downloads', ['case_id'])
    op.create_table(
        'case_file_holds',
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('by_locality', sa.String(length=6), nullable=False),
        sa.Column('by_client', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_table(
        'case_file_purges',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('files', sa.Integer(), nullable=False),
        sa.Column('bytes', sa.Integer(), nullable=False),
        sa.Column('sha256s', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_file_purges_case_id', 'case_file_purges', ['case_id'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_case_file_purges_case_id', table_name='case_file_purges')
    op.drop_table('case_file_purges')
    op.drop_table('case_file_holds')
    op.drop_index('ix_case_file_downloads_case_id', table_name='case_file_downloads')
    op.drop_table('case_file_downloads')
    op.drop_index('ix_case_files_case_id', table_name='case_files')
    op.drop_table('case_files')
