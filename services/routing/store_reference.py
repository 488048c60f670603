"""Routing's repositories of what is not a case: the items it has heard of, stored first responses
(idempotency keys) and the statutory calendar's versions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.domain import YearSchedule
from services.routing.domain.calendar import ScheduleVersion, YearHistory
from services.routing.store import CalendarVersionRow, IdempotencyRow, KnownItemRow
from shared.db import insert_ignore

_ITEM_BY_CODE = select(KnownItemRow.__table__).where(KnownItemRow.__table__.c.code == bindparam("code"))


class KnownItemRepository:
    """Routing's view of the catalogue."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> KnownItemRow | None:
        """The item as routing last heard of it (a Core read, detached: every case reads its item, none changes it)."""
        found = (await self.session.execute(_ITEM_BY_CODE, {"code": code})).first()
        return None if found is None else KnownItemRow(**found._mapping)

    async def apply(self, code: str, revision: int, published: bool, **fields: object) -> bool:
        """Record an item revision; an older or repeated revision changes nothing."""
        row = await self.session.get(KnownItemRow, code)
        if row is not None and row.revision >= revision:
            return False
        if row is None:
            row = KnownItemRow(code=code, area="", name_zh="", modes=[], ownership_rule="", committed_days=0,
                               days_by_locality={}, materials_by_locality={}, published=published, revision=revision)
            self.session.add(row)
        row.revision, row.published = revision, published
        for key, value in fields.items():
            setattr(row, key, value)
        return True


    async def add_fetched(self, code: str, revision: int, **fields: object) -> bool:
        """Keep an item fetched from the catalogue unless its own event brought it in first (then that row
        stands: it is as new or newer). Whether this one was kept."""
        values: dict[str, object] = {"code": code, "area": "", "name_zh": "", "modes": [], "ownership_rule": "",
                                     "committed_days": 0, "days_by_locality": {}, "materials_by_locality": {},
                                     "licence_types": [], "national_code": "", "implementation_codes": {},
                                     "published": True, "revision": revision, **fields}
        return await insert_ignore(self.session, KnownItemRow, values, ["code"])


class IdempotencyRepository:
    """Stored first responses."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, client_id: str, key: str) -> IdempotencyRow | None:
        """The stored response of a key."""
        return await self.session.get(IdempotencyRow, (client_id, key))

    def add(self, client_id: str, key: str, request_hash: str, status_code: int, body: dict[str, Any]) -> None:
        """Keep a response for its key (in the transaction of the change it answers)."""
        self.session.add(IdempotencyRow(client_id=client_id, key=key, request_hash=request_hash,
                                        status_code=status_code, body=body, created_at=datetime.now(UTC)))


class CalendarRepository:
    """The versions of the schedules the joint office loaded, replaced or withdrew."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _version(row: CalendarVersionRow) -> ScheduleVersion:
        schedule = None
        if row.holidays is not None:
            schedule = YearSchedule(row.year, frozenset(date.fromisoformat(d) for d in row.holidays),
                                    frozenset(date.fromisoformat(d) for d in row.adjusted_workdays or []), row.source)
        return ScheduleVersion(row.year, row.version, row.change, schedule,  # type: ignore[arg-type]
                               row.by_locality, row.by_client, row.at, row.reason)

    async def history(self, year: int) -> YearHistory:
        """Every version of one year, oldest first."""
        rows = await self.session.scalars(
            select(CalendarVersionRow).where(CalendarVersionRow.year == year).order_by(CalendarVersionRow.version))
        return YearHistory(year, tuple(self._version(r) for r in rows))

    async def all(self) -> list[YearSchedule]:
        """The schedule in force of every year that has one (the last version of each year, unless withdrawn)."""
        rows = await self.session.scalars(
            select(CalendarVersionRow).order_by(CalendarVersionRow.year, CalendarVersionRow.version))
        last: dict[int, CalendarVersionRow] = {r.year: r for r in rows}
        return [v.schedule for v in map(self._version, last.values()) if v.schedule is not None]

    def add(self, version: ScheduleVersion) -> None:
        """Append a version (two changes of one year at once collide on its number)."""
        schedule = version.schedule
        self.session.add(CalendarVersionRow(
            year=version.year, version=version.version, change=version.change,
            holidays=sorted(d.isoformat() for d in schedule.holidays) if schedule else None,
            adjusted_workdays=sorted(d.isoformat() for d in schedule.adjusted_workdays) if schedule else None,
            source=schedule.source if schedule else "", reason=version.reason, by_locality=version.by_locality,
            by_client=version.by_client, at=version.at))

