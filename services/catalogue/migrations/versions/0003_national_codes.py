"""national codes: an item's basic-catalogue code and each locality's implementation code (issue 17)

Revision ID: 0003_national_codes
Revises: 0002
Create Date: 2026-12-02 20:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0003_national_codes"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("national_code", sa.String(length=40), nullable=False, server_default=""))
    with op.batch_alter_table("standards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("implementation_code", sa.String(length=48), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("standards", schema=None) as batch_op:
        batch_op.drop_column("implementation_code")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("national_code")
