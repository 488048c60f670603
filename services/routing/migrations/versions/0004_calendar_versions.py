"""calendar versions: every change of a year's schedule kept, with who and when

Revision ID: 0003_calendar_versions
Revises: 0003_applicant_key_id
Create Date: 2026-12-02 05:00:00

The schedules loaded before (``calendar_years``) become version 1 of their year, loaded by
``unknown`` (the table did not say who loaded them).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0003_calendar_versions'
down_revision: Union[str, Sequence[str], None] = '0003_applicant_key_id'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    versions = op.create_table(
        'calendar_versions',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('change', sa.String(length=16), nullable=False),
        sa.Column('holidays', sa.JSON(), nullable=True),
        sa.Column('adjusted_workdays', sa.JSON(), nullable=True),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('by_locality', sa.String(length=16), nullable=False),
        sa.Column('by_client', sa.String(length=128), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('year', 'version'),
    )
    old = sa.table('calendar_years', sa.column('year', sa.Integer()), sa.column('holidays', sa.JSON()),
                   sa.column('adjusted_workdays', sa.JSON()), sa.column('source', sa.String()),
                   sa.column('loaded_at', sa.DateTime(timezone=True)))
    rows = op.get_bind().execute(sa.select(old)).mappings().all()
    if rows:
        op.bulk_insert(versions, [
            {"year": r["year"], "version": 1, "change": "loaded", "holidays": r["holidays"],
             "adjusted_workdays": r["adjusted_workdays"], "source": r["source"], "reason": "",
             "by_locality": "unknown", "by_client": "unknown", "at": r["loaded_at"]} for r in rows])
    op.drop_table('calendar_years')


def downgrade() -> None:
    """Downgrade schema: the schedule in force of each year survives, its history does not."""
    years = op.create_table(
        'calendar_years',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('holidays', sa.JSON(), nullable=False),
        sa.Column('adjusted_workdays', sa.JSON(), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('year'),
    )
    versions = sa.table('calendar_versions', sa.column('year', sa.Integer()), sa.column('version', sa.Integer()),
                        sa.column('holidays', sa.JSON()), sa.column('adjusted_workdays', sa.JSON()),
                        sa.column('source', sa.String()), sa.column('at', sa.DateTime(timezone=True)))
    last: dict[int, dict[str, object]] = {}
    for r in op.get_bind().execute(sa.select(versions).order_by(versions.c.year, versions.c.version)).mappings():
        last[r["year"]] = dict(r)
    current = [r for r in last.values() if r["holidays"] is not None]
    if current:
        op.bulk_insert(years, [{"year": r["year"], "holidays": r["holidays"], "adjusted_workdays": r["adjusted_workdays"],
                                "source": r["source"], "loaded_at": r["at"]} for r in current])
    op.drop_table('calendar_versions')
