"""Repositories of the catalogue's reference data: areas, business standards and procedures, windows."""


from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    delete,
    exists,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalogue.domain.items import Item
from services.catalogue.domain.snapshot import snapshot
from services.catalogue.domain.standards import Material, Procedure, ProcedureStep, Standard, Window
from services.catalogue.store import (
    Area,
    AreaRow,
    ProcedureRow,
    StandardRow,
    WindowItemRow,
    WindowRow,
)

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
        implementation_code=row.implementation_code or "",
    )


def standard_values(standard: Standard) -> dict[str, Any]:
    """The column values of a standard (without its keys)."""
    content = standard.content()
    return {k: content[k] for k in ("competent_department", "legal_days", "committed_days", "fee", "materials",
                                    "conditions", "legal_basis", "illustrative", "note", "implementation_code")}


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
