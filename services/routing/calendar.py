"""Use cases of the shared statutory calendar: load, replace or withdraw a year's schedule.

The joint office (``regional_calendar``) changes a year; each change is a new version with who and
when, an audit line in the log and a ``CalendarScheduleChanged`` event to every locality, in the
transaction that recomputes the open cases' deadlines on the calendar as it now is.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from services.routing.deadlines import CalendarKeeper, scan_deadlines, set_deadline
from services.routing.domain import WorkingCalendar, YearSchedule
from services.routing.domain.calendar import ScheduleVersion, YearHistory
from services.routing.store import CaseRepository
from services.routing.store_reference import CalendarRepository
from shared.auth import Caller
from shared.contracts.routing import CalendarScheduleChanged
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.routing.calendar")


async def recompute_year(uow: UnitOfWork, calendar: WorkingCalendar, year: int, day: date) -> int:
    """Compute again the due date of every open case whose clock runs through ``year`` (or is provisional).

    A replaced or withdrawn schedule moves dates that were final, not only provisional ones.
    """
    changed = 0
    for row in await CaseRepository(uow.session).open_with_deadlines():
        assert row.accepted_on is not None
        touches = row.accepted_on.year <= year <= (row.due_on.year if row.due_on else year)
        if (touches or row.deadline_provisional) and set_deadline(uow, row, calendar, day):
            changed += 1
    return changed


async def _apply(uow: UnitOfWork, keeper: CalendarKeeper, version: ScheduleVersion, day: date) -> int:
    CalendarRepository(uow.session).add(version)
    await uow.session.flush()
    calendar = await keeper.reload(uow)
    recomputed = await recompute_year(uow, calendar, version.year, day)
    await scan_deadlines(uow, calendar, day)
    schedule = version.schedule
    uow.publish_everywhere(CalendarScheduleChanged(
        year=version.year, schedule_version=version.version, change=version.change,
        source=schedule.source if schedule else "",
        holidays=sorted(schedule.holidays) if schedule else [],
        adjusted_workdays=sorted(schedule.adjusted_workdays) if schedule else [],
        reason=version.reason, by_locality=version.by_locality, by_client=version.by_client,
        changed_at=version.at, recomputed=recomputed,
    ))
    log.info("calendar schedule changed", extra={
        "audit": "calendar.schedule_changed", "year": version.year, "version": version.version,
        "change": version.change, "by_locality": version.by_locality, "by_client": version.by_client,
        "reason": version.reason, "recomputed": recomputed})
    return recomputed


async def load_schedule(uow: UnitOfWork, keeper: CalendarKeeper, schedule: YearSchedule, caller: Caller,
                        day: date) -> tuple[ScheduleVersion, int]:
    """Load or replace a year's schedule; the new version and how many due dates moved."""
    history = await CalendarRepository(uow.session).history(schedule.year)
    version = history.load(schedule, caller.locality, caller.client_id, datetime.now(UTC))
    return version, await _apply(uow, keeper, version, day)


async def withdraw_schedule(uow: UnitOfWork, keeper: CalendarKeeper, year: int, reason: str, caller: Caller,
                            day: date) -> tuple[ScheduleVersion, int]:
    """Withdraw a year's schedule (:class:`NothingToWithdraw` when none is in force); the version, dates moved."""
    history = await CalendarRepository(uow.session).history(year)
    version = history.withdraw(caller.locality, caller.client_id, datetime.now(UTC), reason)
    return version, await _apply(uow, keeper, version, day)


async def schedule_history(uow: UnitOfWork, year: int) -> YearHistory:
    """Every version of a year's schedule."""
    return await CalendarRepository(uow.session).history(year)
