"""failed logins per key and window (throttling, audited once per window)

Revision ID: 0002_login_throttle
Revises: 0002_case_handling
Create Date: 2026-12-02 05:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002_login_throttle'
down_revision: Union[str, Sequence[str], None] = '0002_case_handling'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the login_failures table."""
    op.create_table(
        'login_failures',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('window_start', sa.BigInteger(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locality', sa.String(length=16), nullable=False),
        sa.Column('audit', sa.Boolean(), nullable=False),
        sa.Column('audited', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start'),
    )


def downgrade() -> None:
    """Drop the login_failures table."""
    op.drop_table('login_failures')
