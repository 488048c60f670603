"""the applicant and the agent, sealed, with their masked forms; every unmasking audited (issue 16, part C)

Revision ID: 0009_case_parties
Revises: 0008_case_posts
Create Date: 2026-12-02 17:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009_case_parties'
down_revision: Union[str, Sequence[str], None] = '0008_case_posts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('parties_sealed', sa.Text(), nullable=True))
        batch.add_column(sa.Column('parties_masked', sa.JSON(), nullable=True))
    op.create_table(
        'personal_data_reads',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('case_id', sa.String(length=36), nullable=False, index=True),
        sa.Column('locality', sa.String(length=6), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('personal_data_reads')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('parties_masked')
        batch.drop_column('parties_sealed')
