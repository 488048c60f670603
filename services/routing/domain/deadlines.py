"""Deadlines in working days on the Chinese statutory calendar. Pure: no I/O.

A year's schedule (the State Council's notice: public holidays and the adjusted working days, 调休)
comes from the chinese-calendar library or from operators, whose schedule overrides the library's.
A deadline that crosses a year without a schedule is counted on weekends alone and marked
provisional, to be recomputed when the schedule arrives. The clock pauses while a supplement is
outstanding: each working day of a pause moves the deadline one working day later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class YearSchedule:
    """One year's statutory schedule: days off that would be working days, and working weekend days."""

    year: int
    holidays: frozenset[date]
    adjusted_workdays: frozenset[date]
    source: str = "library"

    def __post_init__(self) -> None:
        for day in (*self.holidays, *self.adjusted_workdays):
            if day.year != self.year:
                raise ValueError(f"{day.isoformat()} is not in {self.year}")
        both = self.holidays & self.adjusted_workdays
        if both:
            raise ValueError(f"{sorted(both)[0].isoformat()} is both a holiday and an adjusted working day")


@dataclass(frozen=True)
class WorkingCalendar:
    """The schedules known, by year."""

    schedules: dict[int, YearSchedule] = field(default_factory=dict)

    def knows(self, year: int) -> bool:
        """Whether the year's schedule is loaded."""
        return year in self.schedules

    def is_working_day(self, day: date) -> bool:
        """A working day: not a holiday, and a weekday or an adjusted working day (weekends alone if unknown)."""
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            if day in schedule.holidays:
                return False
            if day in schedule.adjusted_workdays:
                return True
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """The ``days``-th working day counted from the day after ``start``; and whether it is provisional."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, counted, provisional = start, 0, False
        while counted < days:
            day += timedelta(days=1)
            provisional |= not self.knows(day.year)
            if self.is_working_day(day):
                counted += 1
        return day, provisional

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def with_schedule(self, schedule: YearSchedule) -> WorkingCalendar:
        """The calendar with ``schedule`` replacing that year's."""
        return WorkingCalendar({**self.schedules, schedule.year: schedule})


@dataclass(frozen=True)
class Pause:
    """A supplement outstanding: from the day it was requested to the day it arrived (None: still out)."""

    start: date
    end: date | None


@dataclass(frozen=True)
class Deadline:
    """When a case is due, and whether that date rests on a year without a schedule."""

    due: date
    provisional: bool
    paused_working_days: int


def deadline(
    calendar: WorkingCalendar, accepted_on: date, committed_days: int, pauses: Iterable[Pause], today: date
) -> Deadline:
    """The due date: committed working days from the day after acceptance, plus the paused working days."""
    paused = sum(calendar.working_days_between(p.start, p.end or today) for p in pauses)
    due, provisional = calendar.add_working_days(accepted_on, committed_days + paused)
    return Deadline(due, provisional, paused)


def notice(calendar: WorkingCalendar, due: date, today: date, finished: bool) -> str | None:
    """What a case's deadline calls for today: ``overdue``, ``due_soon`` (within one working day) or None."""
    if finished:
        return None
    if today > due:
        return "overdue"
    if calendar.working_days_between(today, due) <= 1:
        return "due_soon"
    return None


def schedule_from_days(year: int, holidays: Iterable[date], workdays: Iterable[date], source: str) -> YearSchedule:
    """A year's schedule from its lists of dates (as in a State Council notice)."""
    return YearSchedule(year, frozenset(holidays), frozenset(workdays), source)
