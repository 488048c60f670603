"""Tables and repository of the catalogue service (its own database)."""

from __future__ import annotations

from sqlalchemy import JSON, Integer, MetaData, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.catalogue.domain import Item
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    """Declarative base of the catalogue's own metadata."""

    metadata = MetaData()


class ItemRow(Base):
    """An item of the catalogue."""

    __tablename__ = "items"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    area: Mapped[str] = mapped_column(String(64), index=True)
    modes: Mapped[list[str]] = mapped_column(JSON)
    ownership_rule: Mapped[str] = mapped_column(String(64))
    committed_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


def to_item(row: ItemRow) -> Item:
    """The domain item of a row."""
    return Item(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        area=row.area,
        modes=tuple(row.modes),
        ownership_rule=row.ownership_rule,
        committed_days=row.committed_days,
        status=row.status,  # type: ignore[arg-type]
        revision=row.revision,
    )


class ItemRepository:
    """Items in the catalogue's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> Item | None:
        """The item of ``code``, or None."""
        row = await self.session.get(ItemRow, code)
        return to_item(row) if row else None

    async def list(self, area: str | None, status: str | None, after: str | None, limit: int) -> list[Item]:
        """Items by code, filtered, from after the cursor ``after``."""
        query = select(ItemRow).order_by(ItemRow.code).limit(limit)
        if area:
            query = query.where(ItemRow.area == area)
        if status:
            query = query.where(ItemRow.status == status)
        if after:
            query = query.where(ItemRow.code > after)
        return [to_item(r) for r in (await self.session.scalars(query)).all()]

    async def save(self, item: Item) -> None:
        """Insert or update an item."""
        row = await self.session.get(ItemRow, item.code)
        values = {
            "name_zh": item.name_zh,
            "name_en": item.name_en,
            "area": item.area,
            "modes": list(item.modes),
            "ownership_rule": item.ownership_rule,
            "committed_days": item.committed_days,
            "status": item.status,
            "revision": item.revision,
        }
        if row is None:
            self.session.add(ItemRow(code=item.code, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
