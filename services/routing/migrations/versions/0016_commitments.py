"""commitments in place of proofs (告知承诺制, issue 17): the commitments and the applicants' records of false ones

Revision ID: 0014_commitments
Revises: 0013_status_query_failures
Create Date: 2026-12-02 20:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0014_commitments'
down_revision: Union[str, Sequence[str], None] = '0014_evaluations'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'case_commitments',
        sa.Column('id', sa.String(length=36), primary_key=True),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('item_code', sa.String(length=32), nullable=False),
        sa.Column('owner', sa.String(length=6), nullable=False),
        sa.Column('accepting_locality', sa.String(length=6), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('replaces', sa.JSON(), nullable=False),
        sa.Column('verify_days', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('verified_on', sa.Date(), nullable=True),
        sa.Column('verified_by', sa.String(length=64), nullable=False),
        sa.Column('overdue_told', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_case_commitments_case_id', 'case_commitments', ['case_id'])
    op.create_index('ix_case_commitments_owner', 'case_commitments', ['owner'])
    op.create_index('ix_case_commitments_status', 'case_commitments', ['status'])
    op.create_table(
        'false_commitments',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('applicant_digest', sa.String(length=64), nullable=False),
        sa.Column('applicant_key_id', sa.String(length=32), nullable=False),
        sa.Column('item_code', sa.String(length=32), nullable=False),
        sa.Column('commitment_id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('owner', sa.String(length=6), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('found_on', sa.Date(), nullable=False),
    )
    op.create_index('ix_false_commitments_applicant_digest', 'false_commitments', ['applicant_digest'])
    op.create_index('ix_false_commitments_item_code', 'false_commitments', ['item_code'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('false_commitments')
    op.drop_table('case_commitments')
