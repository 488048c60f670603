"""crypto suite: each signing key records its algorithm (and SM2's y), each audit entry its hash

Revision ID: 0002_crypto_suite
Revises: 0002_login_throttle
Create Date: 2026-12-02 05:00:00

Existing rows are Ed25519 keys and SHA-256 entries, which the server defaults say.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002_crypto_suite'
down_revision: Union[str, Sequence[str], None] = '0002_login_throttle'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('algorithm', sa.String(length=16), server_default='Ed25519', nullable=False))
        batch_op.add_column(sa.Column('y', sa.String(length=64), nullable=True))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash_alg', sa.String(length=8), server_default='sha256', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('hash_alg')
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_column('y')
        batch_op.drop_column('algorithm')
