"""licence types: the electronic licences (电子证照) an item's result may be

Revision ID: 0003_licence_types
Revises: 0002
Create Date: 2026-12-02 20:05:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003_licence_types'
down_revision: Union[str, Sequence[str], None] = '0003_national_codes'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('licence_types', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('licence_types')
