"""applicant hash key version

Revision ID: 0003_applicant_key_id
Revises: 0002
Create Date: 2026-12-02 05:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003_applicant_key_id'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Name the version of the applicant-hash key beside each digest."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applicant_key_id', sa.String(length=32), nullable=False, server_default=''))


def downgrade() -> None:
    """Drop the key version."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('applicant_key_id')
