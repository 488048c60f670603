"""Deadlines in working days on the Chinese statutory calendar (dates checked by hand against the notices)."""

from __future__ import annotations

from datetime import date

import pytest

from services.routing.deadlines import library_schedules
from services.routing.domain import Pause, WorkingCalendar, YearSchedule, deadline, notice


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(library_schedules())


def test_spring_festival_2026(calendar: WorkingCalendar) -> None:
    # Accepted Friday 13 Feb; Sat 14 Feb is a working day (调休); 15-23 Feb off; then 24, 25 Feb.
    assert calendar.add_working_days(date(2026, 2, 13), 3) == (date(2026, 2, 25), False)
    # Weekends alone would have said 18 Feb.
    assert WorkingCalendar().add_working_days(date(2026, 2, 13), 3) == (date(2026, 2, 18), True)


def test_national_day_2026(calendar: WorkingCalendar) -> None:
    # Accepted Tue 29 Sep: 30 Sep (1); 1-7 Oct off; 8 (2), 9 (3), Sat 10 Oct worked (4), Mon 12 Oct (5).
    assert calendar.add_working_days(date(2026, 9, 29), 5) == (date(2026, 10, 12), False)


def test_an_adjusted_working_saturday(calendar: WorkingCalendar) -> None:
    # 2025: Saturday 8 Feb was a working day after the Spring Festival.
    assert calendar.add_working_days(date(2025, 2, 6), 2) == (date(2025, 2, 8), False)
    assert calendar.is_working_day(date(2025, 2, 8)) and not calendar.is_working_day(date(2025, 2, 4))


def test_a_year_without_a_schedule_is_provisional_until_it_is_loaded() -> None:
    # 2027 is missing on purpose, whether or not the installed chinese-calendar has learnt it since.
    calendar = WorkingCalendar({y: s for y, s in library_schedules().items() if y < 2027})
    due, provisional = calendar.add_working_days(date(2026, 12, 28), 10)
    assert (due, provisional) == (date(2027, 1, 11), True)  # weekends alone: 1 Jan counted as working
    notice_2027 = YearSchedule(2027, frozenset({date(2027, 1, 1)}), frozenset(), "operators")
    assert calendar.with_schedule(notice_2027).add_working_days(date(2026, 12, 28), 10) == (date(2027, 1, 12), False)


def test_an_operator_schedule_overrides_the_library(calendar: WorkingCalendar) -> None:
    override = YearSchedule(2026, frozenset({date(2026, 3, 2)}), frozenset(), "operators")
    assert calendar.with_schedule(override).add_working_days(date(2026, 2, 27), 1) == (date(2026, 3, 3), False)


def test_the_clock_pauses_while_a_supplement_is_outstanding(calendar: WorkingCalendar) -> None:
    pauses = [Pause(date(2025, 3, 4), date(2025, 3, 6))]  # two working days (5 and 6 March) paused
    result = deadline(calendar, date(2025, 3, 3), 5, pauses, today=date(2025, 3, 7))
    assert (result.due, result.paused_working_days) == (date(2025, 3, 12), 2)
    running = deadline(calendar, date(2025, 3, 3), 5, [Pause(date(2025, 3, 4), None)], today=date(2025, 3, 5))
    assert running.paused_working_days == 1


def test_notices(calendar: WorkingCalendar) -> None:
    due = date(2026, 2, 24)
    assert notice(calendar, due, date(2026, 2, 13), finished=False) is None
    assert notice(calendar, due, date(2026, 2, 23), finished=False) == "due_soon"
    assert notice(calendar, due, date(2026, 2, 25), finished=False) == "overdue"
    assert notice(calendar, due, date(2026, 2, 25), finished=True) is None


def test_schedules_are_checked() -> None:
    with pytest.raises(ValueError, match="not in 2027"):
        YearSchedule(2027, frozenset({date(2026, 1, 1)}), frozenset())
    with pytest.raises(ValueError, match="both"):
        YearSchedule(2027, frozenset({date(2027, 1, 2)}), frozenset({date(2027, 1, 2)}))
