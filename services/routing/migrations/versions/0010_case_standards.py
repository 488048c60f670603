"""the owners' standards' materials, and the window's check of originals (issue 16, part D)

Revision ID: 0010_case_standards
Revises: 0009_case_parties
Create Date: 2026-12-02 18:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010_case_standards'
down_revision: Union[str, Sequence[str], None] = '0009_case_parties'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('known_items') as batch:
        batch.add_column(sa.Column('materials_by_locality', sa.JSON(), server_default='{}', nullable=False))
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('originals_checks', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('originals_checks')
    with op.batch_alter_table('known_items') as batch:
        batch.drop_column('materials_by_locality')
