"""business standards, procedures, windows, lists, item revisions and the search index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:00:00

"""
import json
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MODE_BITS = {"fully_online": 1, "accepted_here_handled_there": 2, "joint_handling": 4}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keywords", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("illustrative", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("modes_mask", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("index_version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))

    # Items made before this revision: their mode mask (their search terms are made at the next start).
    items = sa.table("items", sa.column("code", sa.String), sa.column("modes", sa.JSON),
                     sa.column("modes_mask", sa.Integer))
    bind = op.get_bind()
    for code, modes in bind.execute(sa.select(items.c.code, items.c.modes)).all():
        if isinstance(modes, str):
            modes = json.loads(modes)
        mask = sum(MODE_BITS.get(m, 0) for m in set(modes or []))
        bind.execute(items.update().where(items.c.code == code).values(modes_mask=mask))

    op.create_table(
        "areas",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "standards",
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("locality", sa.String(length=6), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=False),
        sa.Column("legal_days", sa.Integer(), nullable=False),
        sa.Column("committed_days", sa.Integer(), nullable=False),
        sa.Column("fee", sa.String(length=200), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.JSON(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_code"], ["items.code"]),
        sa.PrimaryKeyConstraint("item_code", "locality"),
    )
    op.create_index("ix_standards_locality", "standards", ["locality", "item_code"], unique=False)
    op.create_table(
        "procedures",
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=40), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["item_code"], ["items.code"]),
        sa.PrimaryKeyConstraint("item_code", "mode"),
    )
    op.create_table(
        "windows",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("locality", sa.String(length=6), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("hours", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_windows_locality", "windows", ["locality"], unique=False)
    op.create_table(
        "window_items",
        sa.Column("window_id", sa.String(length=16), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["window_id"], ["windows.id"]),
        sa.ForeignKeyConstraint(["item_code"], ["items.code"]),
        sa.PrimaryKeyConstraint("window_id", "item_code"),
    )
    op.create_index("ix_window_items_item_code", "window_items", ["item_code"], unique=False)
    op.create_table(
        "lists",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug", "version", name="uq_lists_slug_version"),
    )
    op.create_index("ix_lists_slug", "lists", ["slug"], unique=False)
    op.create_table(
        "list_entries",
        sa.Column("list_id", sa.String(length=80), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["list_id"], ["lists.id"]),
        sa.ForeignKeyConstraint(["item_code"], ["items.code"]),
        sa.PrimaryKeyConstraint("list_id", "item_code"),
    )
    op.create_index("ix_list_entries_item_code", "list_entries", ["item_code"], unique=False)
    op.create_table(
        "item_revisions",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["code"], ["items.code"]),
        sa.PrimaryKeyConstraint("code", "revision"),
    )
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(length=48), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["item_code"], ["items.code"]),
        sa.PrimaryKeyConstraint("term", "item_code"),
    )
    op.create_index("ix_search_terms_item_code", "search_terms", ["item_code"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_search_terms_item_code", table_name="search_terms")
    op.drop_table("search_terms")
    op.drop_table("item_revisions")
    op.drop_index("ix_list_entries_item_code", table_name="list_entries")
    op.drop_table("list_entries")
    op.drop_index("ix_lists_slug", table_name="lists")
    op.drop_table("lists")
    op.drop_index("ix_window_items_item_code", table_name="window_items")
    op.drop_table("window_items")
    op.drop_index("ix_windows_locality", table_name="windows")
    op.drop_table("windows")
    op.drop_table("procedures")
    op.drop_index("ix_standards_locality", table_name="standards")
    op.drop_table("standards")
    op.drop_table("areas")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("index_version")
        batch_op.drop_column("modes_mask")
        batch_op.drop_column("illustrative")
        batch_op.drop_column("keywords")
