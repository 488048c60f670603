"""licences: electronic licences (电子证照) signed by their issuing locality's key

Revision ID: 0004_licences
Revises: 0002_crypto_suite
Create Date: 2026-12-02 20:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004_licences'
down_revision: Union[str, Sequence[str], None] = '0002_crypto_suite'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'licences',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('identifier', sa.String(length=120), nullable=False),
        sa.Column('type_code', sa.String(length=32), nullable=False),
        sa.Column('type_name', sa.String(length=200), nullable=False),
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('holder_kind', sa.String(length=16), nullable=False),
        sa.Column('holder_name_masked', sa.String(length=200), nullable=False),
        sa.Column('holder_id_masked', sa.String(length=32), nullable=False),
        sa.Column('issuing_authority', sa.String(length=200), nullable=False),
        sa.Column('issuing_authority_code', sa.String(length=32), nullable=False),
        sa.Column('issuing_locality', sa.String(length=6), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('file_sha256', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=True),
        sa.Column('item_code', sa.String(length=32), nullable=True),
        sa.Column('holder_localities', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('signature', sa.Text(), nullable=False),
        sa.Column('kid', sa.String(length=64), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('identifier'),
        sa.UniqueConstraint('issuing_locality', 'number', name='uq_licences_issuer_number'),
    )
    op.create_index('ix_licences_issuing_locality', 'licences', ['issuing_locality'])
    op.create_index('ix_licences_case_id', 'licences', ['case_id'])


def downgrade() -> None:
    op.drop_index('ix_licences_case_id', table_name='licences')
    op.drop_index('ix_licences_issuing_locality', table_name='licences')
    op.drop_table('licences')
