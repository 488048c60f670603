"""licences: routing's copy of an item names the electronic licences its result may be

Revision ID: 0014_licences
Revises: 0013_status_query_failures
Create Date: 2026-12-02 20:05:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0014_licences'
down_revision: Union[str, Sequence[str], None] = '0014_commitments'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('known_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('licence_types', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('known_items', schema=None) as batch_op:
        batch_op.drop_column('licence_types')
