"""The clock of cases: the working calendar (the library's statutory schedules overridden by the joint
office's), each case's due date, and the daily scan that announces due-soon and overdue cases once."""

from __future__ import annotations

from collections import Counter
from datetime import date

from services.routing.domain import FINISHED, CaseStatus, WorkingCalendar, YearSchedule, deadline, notice
from services.routing.store import CaseRepository, CaseRow, pauses_of
from services.routing.store_reference import CalendarRepository
from shared.contracts.routing import CaseDeadlineSet, CaseDueSoon, CaseOverdue
from shared.uow import UnitOfWork


def library_schedules() -> dict[int, YearSchedule]:
    """The statutory schedules the chinese-calendar library knows, by year."""
    import chinese_calendar

    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for day in chinese_calendar.holidays:
        holidays.setdefault(day.year, set()).add(day)
    for day in chinese_calendar.workdays:
        if day.weekday() >= 5:
            workdays.setdefault(day.year, set()).add(day)
    years = set(holidays) | set(workdays)
    return {y: YearSchedule(y, frozenset(holidays.get(y, ())), frozenset(workdays.get(y, ())),
                            "chinese-calendar library") for y in years}


class CalendarKeeper:
    """The working calendar: the library's schedules overridden by those operators loaded."""

    def __init__(self) -> None:
        self._library = library_schedules()
        self.calendar = WorkingCalendar(dict(self._library))

    async def reload(self, uow: UnitOfWork) -> WorkingCalendar:
        """Read the operators' schedules again."""
        loaded = {s.year: s for s in await CalendarRepository(uow.session).all()}
        self.calendar = WorkingCalendar({**self._library, **loaded})
        return self.calendar



def set_deadline(uow: UnitOfWork, row: CaseRow, calendar: WorkingCalendar, day: date) -> bool:
    """Compute the case's due date again; publish it when it changed. Whether it changed."""
    assert row.accepted_on is not None
    due = deadline(calendar, row.accepted_on, row.committed_days, pauses_of(row), day)
    open_pause = any(e is None for _s, e in row.pauses)
    if open_pause:
        return False  # the clock is stopped: the date is set again when the supplement arrives
    changed = (row.due_on, row.deadline_provisional) != (due.due, due.provisional)
    row.due_on, row.deadline_provisional = due.due, due.provisional
    if changed:
        if row.notified and due.due >= day:
            row.notified = []
        uow.publish(CaseDeadlineSet(case_id=row.id, owners=list(row.owners), due_on=due.due,
                                    provisional=due.provisional, committed_days=row.committed_days,
                                    paused_working_days=due.paused_working_days),
                    list(dict.fromkeys([row.accepting_locality, *row.owners])))
    return changed


async def scan_deadlines(uow: UnitOfWork, calendar: WorkingCalendar, day: date) -> dict[str, int]:
    """Publish due-soon and overdue notices (each once per case) and refresh provisional dates."""
    counts: Counter[str] = Counter()
    for row in await CaseRepository(uow.session).open_with_deadlines():
        if row.deadline_provisional and set_deadline(uow, row, calendar, day):
            counts["recomputed"] += 1
        if row.due_on is None or any(e is None for _s, e in row.pauses):
            continue
        kind = notice(calendar, row.due_on, day, finished=CaseStatus(row.status) in FINISHED)
        if kind is None or kind in row.notified:
            continue
        row.notified = [*row.notified, kind]
        involved = list(dict.fromkeys([row.accepting_locality, *row.owners]))
        for owner in row.owners:
            event = (CaseOverdue(case_id=row.id, owner=owner, due_on=row.due_on) if kind == "overdue"
                     else CaseDueSoon(case_id=row.id, owner=owner, due_on=row.due_on))
            uow.publish(event, involved)
        counts[kind] += 1
    return dict(counts)

