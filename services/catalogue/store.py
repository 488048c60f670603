"""Tables and repositories of the catalogue service (its own database; SQLite or PostgreSQL).

Besides items, standards, procedures, windows and lists, the catalogue keeps:

- ``item_revisions``: the snapshot of every published revision of an item (what a published list
  pins its entries to, and what list diffs compare);
- ``search_terms``: its own inverted index, ``(term, item_code)`` (see ``domain/search.py``),
  which plain B-tree lookups and ``INTERSECT`` serve on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    delete,
    exists,
    false,
    func,
    insert,
    intersect,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.catalogue.domain.items import MODE_BITS, Item
from services.catalogue.domain.search import TOKENIZER_VERSION, index_terms
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    """Declarative base of the catalogue's own metadata."""

    metadata = MetaData()


def _now() -> datetime:
    return datetime.now(UTC)


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
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    licence_types: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    modes_mask: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    index_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    national_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    """The national basic-catalogue code (基本目录); "" while unknown."""


class AreaRow(Base):
    """An area of the catalogue (market supervision, social security, ...) with its search aliases."""

    __tablename__ = "areas"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)


class StandardRow(Base):
    """The business standard of an item in a locality."""

    __tablename__ = "standards"
    __table_args__ = (Index("ix_standards_locality", "locality", "item_code"),)

    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("items.code"), primary_key=True)
    locality: Mapped[str] = mapped_column(String(6), primary_key=True)
    competent_department: Mapped[str] = mapped_column(String(200))
    legal_days: Mapped[int] = mapped_column(Integer)
    committed_days: Mapped[int] = mapped_column(Integer)
    fee: Mapped[str] = mapped_column(String(200))
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    conditions: Mapped[list[str]] = mapped_column(JSON)
    legal_basis: Mapped[list[str]] = mapped_column(JSON)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    implementation_code: Mapped[str] = mapped_column(String(48), default="", server_default="")
    """The locality's implementation code (实施清单); "" while unknown."""


class ProcedureRow(Base):
    """The handling procedure of an item in one mode."""

    __tablename__ = "procedures"

    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("items.code"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(40), primary_key=True)
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class WindowRow(Base):
    """A cross-provincial special window of a locality."""

    __tablename__ = "windows"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    locality: Mapped[str] = mapped_column(String(6), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(300))
    hours: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(64))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class WindowItemRow(Base):
    """An item that a window accepts."""

    __tablename__ = "window_items"

    window_id: Mapped[str] = mapped_column(String(16), ForeignKey("windows.id"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("items.code"), primary_key=True, index=True)


class ListRow(Base):
    """One version of a named list."""

    __tablename__ = "lists"
    __table_args__ = (UniqueConstraint("slug", "version", name="uq_lists_slug_version"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    announced_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    provenance: Mapped[str] = mapped_column(Text, default="")


class ListEntryRow(Base):
    """An item of a list version, pinned to a revision once the version is published."""

    __tablename__ = "list_entries"

    list_id: Mapped[str] = mapped_column(String(80), ForeignKey("lists.id"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("items.code"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ItemRevisionRow(Base):
    """The content of an item at one of its published revisions."""

    __tablename__ = "item_revisions"

    code: Mapped[str] = mapped_column(String(32), ForeignKey("items.code"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SearchTermRow(Base):
    """One entry of the inverted index: an item holds a term."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(48), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("items.code"), primary_key=True, index=True)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------- items


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
        keywords=tuple(row.keywords or ()),
        illustrative=bool(row.illustrative),
        national_code=row.national_code or "",
        licence_types=tuple((t["code"], t["name"]) for t in row.licence_types or ()),
    )


def item_values(item: Item) -> dict[str, Any]:
    """The column values of an item (without its code)."""
    return {
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "area": item.area,
        "modes": list(item.modes),
        "ownership_rule": item.ownership_rule,
        "committed_days": item.committed_days,
        "status": item.status,
        "revision": item.revision,
        "keywords": list(item.keywords),
        "illustrative": item.illustrative,
        "licence_types": [{"code": c, "name": n} for c, n in item.licence_types],
        "modes_mask": item.modes_mask,
        "national_code": item.national_code,
    }


def search_texts(item: Item, area: Area | None) -> list[str]:
    """The texts under which an item is found: code, names, keywords, its area's names and aliases."""
    texts = [item.code, item.name_zh, item.name_en, *item.keywords, item.area.replace("_", " ")]
    if area is not None:
        texts += [area.name_zh, area.name_en, *area.aliases]
    return texts


class Area:
    """An area and the aliases it is also found under (e.g. "医保" for medical insurance)."""

    def __init__(self, key: str, name_zh: str, name_en: str, aliases: Sequence[str] = ()) -> None:
        self.key, self.name_zh, self.name_en, self.aliases = key, name_zh, name_en, tuple(aliases)

    def as_dict(self) -> dict[str, Any]:
        """The area as plain data."""
        return {"key": self.key, "name_zh": self.name_zh, "name_en": self.name_en, "aliases": list(self.aliases)}


class ItemFilter:
    """Filters of the item listing (each None when unused)."""

    def __init__(
        self,
        *,
        terms: Sequence[str] = (),
        area: str | None = None,
        locality: str | None = None,
        mode: str | None = None,
        list_id: str | None = None,
        status: str | None = None,
    ) -> None:
        self.terms, self.area, self.locality, self.mode = list(terms), area, locality, mode
        self.list_id, self.status = list_id, status


class ItemRepository:
    """Items, their search terms and their revisions."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> Item | None:
        """The item of ``code``, or None."""
        row = await self.session.get(ItemRow, code)
        return to_item(row) if row else None

    async def get_many(self, codes: Iterable[str]) -> dict[str, Item]:
        """The items of ``codes`` that exist, by code."""
        wanted = sorted(set(codes))
        found: dict[str, Item] = {}
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(select(ItemRow).where(ItemRow.code.in_(wanted[start : start + 500])))
            found.update({r.code: to_item(r) for r in rows})
        return found

    async def all(self) -> list[Item]:
        """Every item, by code."""
        return [to_item(r) for r in await self.session.scalars(select(ItemRow).order_by(ItemRow.code))]

    async def count(self) -> int:
        """How many items the catalogue holds."""
        return int((await self.session.execute(select(func.count()).select_from(ItemRow))).scalar_one())

    async def search(self, filters: ItemFilter, after: str | None, limit: int) -> list[Item]:
        """Items matching every filter (and every search term), by code, from after ``after``."""
        query = select(ItemRow).order_by(ItemRow.code).limit(limit)
        if filters.terms:
            postings = [select(SearchTermRow.item_code).where(SearchTermRow.term == t) for t in filters.terms]
            if len(postings) == 1:
                query = query.where(ItemRow.code.in_(postings[0]))
            else:
                matched = intersect(*postings).subquery()
                query = query.where(ItemRow.code.in_(select(matched.c.item_code)))
        if filters.area:
            query = query.where(ItemRow.area == filters.area)
        if filters.status:
            query = query.where(ItemRow.status == filters.status)
        if filters.mode:
            query = query.where(ItemRow.modes_mask.op("&")(MODE_BITS[filters.mode]) != 0)
        if filters.locality:
            query = query.where(
                exists().where(StandardRow.item_code == ItemRow.code, StandardRow.locality == filters.locality)
            )
        if filters.list_id:
            query = query.where(
                exists().where(ListEntryRow.item_code == ItemRow.code, ListEntryRow.list_id == filters.list_id)
            )
        if after:
            query = query.where(ItemRow.code > after)
        return [to_item(r) for r in (await self.session.scalars(query)).all()]

    async def save(self, item: Item, area: Area | None = None) -> None:
        """Insert or update an item and re-index its search terms."""
        row = await self.session.get(ItemRow, item.code)
        values = item_values(item)
        changed = row is None or any(getattr(row, k) != v for k, v in values.items())
        if row is None:
            self.session.add(ItemRow(code=item.code, **values, index_version=TOKENIZER_VERSION, updated_at=_now()))
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.index_version = TOKENIZER_VERSION
            if changed:
                row.updated_at = _now()
        await self.session.flush()
        await self.reindex(item, area)

    async def reindex(self, item: Item, area: Area | None) -> None:
        """Replace the item's search terms."""
        await self.session.execute(delete(SearchTermRow).where(SearchTermRow.item_code == item.code))
        terms = sorted(index_terms(search_texts(item, area)))
        if terms:
            await self.session.execute(insert(SearchTermRow), [{"term": t, "item_code": item.code} for t in terms])

    async def stale_index(self, limit: int = 500) -> list[Item]:
        """Items indexed by an older tokenizer (or never)."""
        rows = await self.session.scalars(
            select(ItemRow).where(ItemRow.index_version != TOKENIZER_VERSION).order_by(ItemRow.code).limit(limit)
        )
        return [to_item(r) for r in rows]

    async def mark_indexed(self, code: str) -> None:
        """Record that the item's terms are current."""
        row = await self.session.get(ItemRow, code)
        if row is not None:
            row.index_version = TOKENIZER_VERSION
            row.modes_mask = to_item(row).modes_mask

    async def record_revision(self, item: Item, content: dict[str, Any]) -> None:
        """Keep the snapshot of the item's current revision (once)."""
        if item.revision < 1:
            return
        if await self.session.get(ItemRevisionRow, (item.code, item.revision)) is None:
            self.session.add(ItemRevisionRow(code=item.code, revision=item.revision, status=item.status,
                                             snapshot=content, recorded_at=_now()))

    async def revision(self, code: str, revision: int) -> dict[str, Any] | None:
        """The snapshot of an item's revision, or None."""
        row = await self.session.get(ItemRevisionRow, (code, revision))
        return dict(row.snapshot) if row else None

    async def revisions(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        """Snapshots of several item revisions."""
        wanted = set(keys)
        codes = sorted({c for c, _ in wanted})
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for start in range(0, len(codes), 500):
            rows = await self.session.scalars(
                select(ItemRevisionRow).where(ItemRevisionRow.code.in_(codes[start : start + 500]))
            )
            for r in rows:
                if (r.code, r.revision) in wanted:
                    found[(r.code, r.revision)] = dict(r.snapshot)
        return found

    async def lists_of(self, code: str) -> list[str]:
        """The ids of the list versions holding the item."""
        rows = await self.session.scalars(
            select(ListEntryRow.list_id).where(ListEntryRow.item_code == code).order_by(ListEntryRow.list_id)
        )
        return list(rows)
