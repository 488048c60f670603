"""tracking: addresses, contents, carrier events, receipts, delivery targets, case parties

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('waybills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carrier', sa.String(length=16), server_default='ems', nullable=False))
        batch_op.add_column(sa.Column('service', sa.String(length=8), server_default='EMS', nullable=False))
        batch_op.add_column(sa.Column('deliver_to', sa.String(length=16), server_default='department',
                                      nullable=False))
        batch_op.add_column(sa.Column('sender_address', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('receiver_address', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('material_hashes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('document', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('target_hours', sa.Integer(), server_default='72', nullable=False))
        batch_op.add_column(sa.Column('carrier_number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('status_code', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('status_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('receipt', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('receipt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('late_flagged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_waybills_carrier_number', ['carrier_number'])
        batch_op.create_index('ix_waybills_due_at', ['due_at'], unique=False)

    op.create_table(
        'waybill_events',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('waybill_number', sa.String(length=32), nullable=False),
        sa.Column('code', sa.String(length=3), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('carrier', sa.String(length=16), nullable=False),
        sa.Column('carrier_event_id', sa.String(length=64), nullable=True),
        sa.Column('location', sa.String(length=200), server_default='', nullable=False),
        sa.Column('reason', sa.String(length=200), server_default='', nullable=False),
        sa.Column('action', sa.String(length=32), server_default='', nullable=False),
        sa.ForeignKeyConstraint(['waybill_number'], ['waybills.number'], name='fk_waybill_events_waybill'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('waybill_number', 'code', 'occurred_at', name='uq_waybill_event'),
    )
    op.create_index('ix_waybill_events_waybill_number', 'waybill_events', ['waybill_number'], unique=False)

    op.create_table(
        'case_parties',
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('accepting_locality', sa.String(length=6), nullable=False),
        sa.Column('owning_localities', sa.JSON(), nullable=False),
        sa.Column('mode', sa.String(length=40), nullable=True),
        sa.Column('material_hashes', sa.JSON(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('case_id'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('case_parties')
    op.drop_index('ix_waybill_events_waybill_number', table_name='waybill_events')
    op.drop_table('waybill_events')
    with op.batch_alter_table('waybills', schema=None) as batch_op:
        batch_op.drop_index('ix_waybills_due_at')
        batch_op.drop_constraint('uq_waybills_carrier_number', type_='unique')
        for column in ('updated_at', 'late_flagged_at', 'receipt_at', 'receipt', 'attempts', 'due_at',
                       'delivered_at', 'posted_at', 'status_at', 'status_code', 'carrier_number',
                       'target_hours', 'document', 'material_hashes', 'receiver_address',
                       'sender_address', 'deliver_to', 'service', 'carrier'):
            batch_op.drop_column(column)
