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
from services.catalogue.domain.lists import CatalogueList, ListEntry
from services.catalogue.domain.search import TOKENIZER_VERSION, index_terms
from services.catalogue.domain.snapshot import snapshot
from services.catalogue.domain.standards import Material, Procedure, ProcedureStep, Standard, Window
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
    modes_mask: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    index_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


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
        "modes_mask": item.modes_mask,
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


# ---------------------------------------------------------------------------- areas


class AreaRepository:
    """Areas and their aliases."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[Area]:
        """Every area, by key."""
        rows = await self.session.scalars(select(AreaRow).order_by(AreaRow.key))
        return [Area(r.key, r.name_zh, r.name_en, r.aliases or ()) for r in rows]

    async def get(self, key: str) -> Area | None:
        """The area of ``key``, or None."""
        row = await self.session.get(AreaRow, key)
        return Area(row.key, row.name_zh, row.name_en, row.aliases or ()) if row else None

    async def save(self, area: Area) -> None:
        """Insert or update an area."""
        row = await self.session.get(AreaRow, area.key)
        if row is None:
            self.session.add(AreaRow(key=area.key, name_zh=area.name_zh, name_en=area.name_en,
                                     aliases=list(area.aliases)))
        else:
            row.name_zh, row.name_en, row.aliases = area.name_zh, area.name_en, list(area.aliases)
        await self.session.flush()


# ---------------------------------------------------------------------------- standards and procedures


def to_standard(row: StandardRow) -> Standard:
    """The domain standard of a row."""
    return Standard(
        item_code=row.item_code,
        locality=row.locality,
        competent_department=row.competent_department,
        legal_days=row.legal_days,
        committed_days=row.committed_days,
        materials=tuple(Material.of(m) for m in row.materials or ()),
        conditions=tuple(row.conditions or ()),
        fee=row.fee,
        legal_basis=tuple(row.legal_basis or ()),
        illustrative=bool(row.illustrative),
        note=row.note or "",
    )


def standard_values(standard: Standard) -> dict[str, Any]:
    """The column values of a standard (without its keys)."""
    content = standard.content()
    return {k: content[k] for k in ("competent_department", "legal_days", "committed_days", "fee", "materials",
                                    "conditions", "legal_basis", "illustrative", "note")}


def to_procedure(row: ProcedureRow) -> Procedure:
    """The domain procedure of a row."""
    steps = tuple(ProcedureStep(s["name_zh"], s["name_en"], s["role"], s["locality"]) for s in row.steps)
    return Procedure(row.item_code, row.mode, steps, bool(row.illustrative))


class StandardRepository:
    """Business standards and procedures of items."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_item(self, code: str) -> list[Standard]:
        """The item's standards, by locality."""
        rows = await self.session.scalars(
            select(StandardRow).where(StandardRow.item_code == code).order_by(StandardRow.locality)
        )
        return [to_standard(r) for r in rows]

    async def of_items(self, codes: Iterable[str]) -> dict[str, list[Standard]]:
        """The standards of several items, by item code."""
        wanted = sorted(set(codes))
        found: dict[str, list[Standard]] = {c: [] for c in wanted}
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(
                select(StandardRow).where(StandardRow.item_code.in_(wanted[start : start + 500]))
                .order_by(StandardRow.item_code, StandardRow.locality)
            )
            for r in rows:
                found[r.item_code].append(to_standard(r))
        return found

    async def all(self) -> list[Standard]:
        """Every standard, by item and locality."""
        rows = await self.session.scalars(select(StandardRow).order_by(StandardRow.item_code, StandardRow.locality))
        return [to_standard(r) for r in rows]

    async def get(self, code: str, locality: str) -> Standard | None:
        """One standard, or None."""
        row = await self.session.get(StandardRow, (code, locality))
        return to_standard(row) if row else None

    async def days_by_locality(self, code: str) -> dict[str, tuple[int, int]]:
        """The item's (legal, committed) time limits by locality."""
        rows = await self.session.execute(
            select(StandardRow.locality, StandardRow.legal_days, StandardRow.committed_days)
            .where(StandardRow.item_code == code).order_by(StandardRow.locality)
        )
        return {loc: (legal, committed) for loc, legal, committed in rows}

    async def save(self, standard: Standard) -> None:
        """Insert or update a standard."""
        row = await self.session.get(StandardRow, (standard.item_code, standard.locality))
        values = standard_values(standard)
        if row is None:
            self.session.add(StandardRow(item_code=standard.item_code, locality=standard.locality, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        await self.session.flush()

    async def remove(self, code: str, locality: str) -> bool:
        """Delete a standard; whether there was one."""
        result = await self.session.execute(
            delete(StandardRow).where(StandardRow.item_code == code, StandardRow.locality == locality)
        )
        return bool(getattr(result, "rowcount", 0))

    async def procedures_of(self, code: str) -> list[Procedure]:
        """The item's procedures."""
        rows = await self.session.scalars(select(ProcedureRow).where(ProcedureRow.item_code == code))
        return [to_procedure(r) for r in rows]

    async def procedures_of_items(self, codes: Iterable[str]) -> dict[str, list[Procedure]]:
        """The procedures of several items, by item code."""
        wanted = sorted(set(codes))
        found: dict[str, list[Procedure]] = {c: [] for c in wanted}
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(
                select(ProcedureRow).where(ProcedureRow.item_code.in_(wanted[start : start + 500]))
            )
            for r in rows:
                found[r.item_code].append(to_procedure(r))
        return found

    async def all_procedures(self) -> list[Procedure]:
        """Every procedure."""
        rows = await self.session.scalars(select(ProcedureRow).order_by(ProcedureRow.item_code, ProcedureRow.mode))
        return [to_procedure(r) for r in rows]

    async def save_procedure(self, procedure: Procedure) -> None:
        """Insert or replace a procedure."""
        row = await self.session.get(ProcedureRow, (procedure.item_code, procedure.mode))
        steps = [s.as_dict() for s in procedure.steps]
        if row is None:
            self.session.add(ProcedureRow(item_code=procedure.item_code, mode=procedure.mode, steps=steps,
                                          illustrative=procedure.illustrative))
        else:
            row.steps, row.illustrative = steps, procedure.illustrative
        await self.session.flush()

    async def snapshot_of(self, item: Item) -> dict[str, Any]:
        """The item's full content now."""
        return snapshot(item, await self.of_item(item.code), await self.procedures_of(item.code))


# ---------------------------------------------------------------------------- windows


class WindowRepository:
    """Windows and the items they accept."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _codes(self, ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.execute(
                select(WindowItemRow.window_id, WindowItemRow.item_code)
                .where(WindowItemRow.window_id.in_(ids)).order_by(WindowItemRow.item_code)
            )
            for window_id, code in rows:
                found[window_id].append(code)
        return found

    def _window(self, row: WindowRow, codes: list[str]) -> Window:
        return Window(row.id, row.locality, row.name_zh, row.name_en, row.address, row.hours, row.phone,
                      tuple(codes), bool(row.illustrative))

    async def find(self, locality: str | None = None, item: str | None = None) -> list[Window]:
        """Windows, optionally of one locality and accepting one item, by id."""
        query = select(WindowRow).order_by(WindowRow.id)
        if locality:
            query = query.where(WindowRow.locality == locality)
        if item:
            query = query.where(exists().where(WindowItemRow.window_id == WindowRow.id,
                                               WindowItemRow.item_code == item))
        rows = list(await self.session.scalars(query))
        codes = await self._codes([r.id for r in rows])
        return [self._window(r, codes[r.id]) for r in rows]

    async def get(self, window_id: str) -> Window | None:
        """One window, or None."""
        row = await self.session.get(WindowRow, window_id)
        if row is None:
            return None
        return self._window(row, (await self._codes([row.id]))[row.id])

    async def get_many(self, ids: Iterable[str]) -> dict[str, Window]:
        """The windows of ``ids`` that exist."""
        wanted = sorted(set(ids))
        rows = list(await self.session.scalars(select(WindowRow).where(WindowRow.id.in_(wanted)))) if wanted else []
        codes = await self._codes([r.id for r in rows])
        return {r.id: self._window(r, codes[r.id]) for r in rows}

    async def save(self, window: Window) -> None:
        """Insert or replace a window and its items."""
        row = await self.session.get(WindowRow, window.id)
        values = {k: getattr(window, k) for k in ("locality", "name_zh", "name_en", "address", "hours", "phone",
                                                  "illustrative")}
        if row is None:
            self.session.add(WindowRow(id=window.id, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        await self.session.flush()
        await self.session.execute(delete(WindowItemRow).where(WindowItemRow.window_id == window.id))
        if window.item_codes:
            await self.session.execute(
                insert(WindowItemRow), [{"window_id": window.id, "item_code": c} for c in window.item_codes]
            )


# ---------------------------------------------------------------------------- lists


class ListRepository:
    """Versions of named lists."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _entries(self, list_id: str) -> tuple[ListEntry, ...]:
        rows = await self.session.scalars(
            select(ListEntryRow).where(ListEntryRow.list_id == list_id).order_by(ListEntryRow.position)
        )
        return tuple(ListEntry(r.item_code, r.revision) for r in rows)

    def _list(self, row: ListRow, entries: tuple[ListEntry, ...]) -> CatalogueList:
        return CatalogueList(
            slug=row.slug, version=row.version, name_zh=row.name_zh, name_en=row.name_en,
            status=row.status,  # type: ignore[arg-type]
            entries=entries, announced_on=row.announced_on, published_at=_utc(row.published_at),
            provenance=row.provenance or "",
        )

    async def get(self, list_id: str) -> CatalogueList | None:
        """A list version with its entries, or None."""
        row = await self.session.get(ListRow, list_id)
        return self._list(row, await self._entries(row.id)) if row else None

    async def exists(self, list_id: str) -> bool:
        """Whether a list version exists."""
        return await self.session.get(ListRow, list_id) is not None

    async def summaries(self) -> list[tuple[CatalogueList, int]]:
        """Every list version (without entries) and its number of items, by slug and version."""
        counts = (
            select(ListEntryRow.list_id, func.count().label("n")).group_by(ListEntryRow.list_id).subquery()
        )
        rows = await self.session.execute(
            select(ListRow, counts.c.n).outerjoin(counts, counts.c.list_id == ListRow.id)
            .order_by(ListRow.slug, ListRow.version)
        )
        return [(self._list(row, ()), int(n or 0)) for row, n in rows]

    async def versions(self, slug: str) -> list[CatalogueList]:
        """The versions of a list (without entries), oldest first."""
        rows = await self.session.scalars(select(ListRow).where(ListRow.slug == slug).order_by(ListRow.version))
        return [self._list(r, ()) for r in rows]

    async def published(self, slug: str) -> CatalogueList | None:
        """The slug's published version, or None."""
        row = (await self.session.scalars(
            select(ListRow).where(ListRow.slug == slug, ListRow.status == "published")
        )).first()
        return self._list(row, await self._entries(row.id)) if row else None

    async def save(self, lst: CatalogueList) -> None:
        """Insert or update a list version and replace its entries."""
        row = await self.session.get(ListRow, lst.id)
        values = {"slug": lst.slug, "version": lst.version, "name_zh": lst.name_zh, "name_en": lst.name_en,
                  "status": lst.status, "announced_on": lst.announced_on, "published_at": lst.published_at,
                  "provenance": lst.provenance}
        if row is None:
            self.session.add(ListRow(id=lst.id, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        await self.session.flush()
        await self.session.execute(delete(ListEntryRow).where(ListEntryRow.list_id == lst.id))
        if lst.entries:
            await self.session.execute(insert(ListEntryRow), [
                {"list_id": lst.id, "item_code": e.item_code, "position": n, "revision": e.revision}
                for n, e in enumerate(lst.entries, start=1)
            ])
