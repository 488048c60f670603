"""The history of a year's statutory schedule as the joint office keeps it: versioned, replaceable, withdrawable.

Every change is a new version saying who made it and when: a schedule loaded (the first) or replaced,
or the schedule withdrawn. The current schedule of a year is that of its last version; after a
withdrawal the year has none of the operators' any more, and routing counts it as it would without
them (the library's schedule, or weekends alone and provisional deadlines when the library has none).
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.routing.domain.deadlines import YearSchedule

Change = Literal["loaded", "replaced", "withdrawn"]


class NothingToWithdraw(ValueError):
    """A withdrawal of a year whose operators' schedule is not in force (never loaded, or withdrawn already)."""

    def __init__(self, year: int, withdrawn_already: bool) -> None:
        self.withdrawn_already = withdrawn_already
        super().__init__(f"the schedule of {year} is withdrawn already" if withdrawn_already
                         else f"no schedule of {year} was loaded: there is nothing to withdraw")


@dataclass(frozen=True)
class ScheduleVersion:
    """One change of a year's schedule: what it is afterwards (None: withdrawn), who changed it, when, why."""

    year: int
    version: int
    change: Change
    schedule: YearSchedule | None
    by_locality: str
    by_client: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class YearHistory:
    """Every version of one year's schedule, oldest first."""

    year: int
    versions: tuple[ScheduleVersion, ...] = ()

    @property
    def current(self) -> YearSchedule | None:
        """The schedule in force: that of the last version (None when never loaded or withdrawn)."""
        return self.versions[-1].schedule if self.versions else None

    def _next(self, change: Change, schedule: YearSchedule | None, by_locality: str, by_client: str,
              at: datetime, reason: str) -> ScheduleVersion:
        number = self.versions[-1].version + 1 if self.versions else 1
        return ScheduleVersion(self.year, number, change, schedule, by_locality, by_client, at, reason)

    def load(self, schedule: YearSchedule, by_locality: str, by_client: str, at: datetime) -> ScheduleVersion:
        """A new version holding ``schedule``: ``loaded`` when none is in force, ``replaced`` otherwise."""
        if schedule.year != self.year:
            raise ValueError(f"a schedule of {schedule.year} is not one of {self.year}")
        change: Change = "replaced" if self.current is not None else "loaded"
        return self._next(change, schedule, by_locality, by_client, at, "")

    def withdraw(self, by_locality: str, by_client: str, at: datetime, reason: str) -> ScheduleVersion:
        """A new version without a schedule; :class:`NothingToWithdraw` when none is in force."""
        if self.current is None:
            raise NothingToWithdraw(self.year, withdrawn_already=bool(self.versions))
        return self._next("withdrawn", None, by_locality, by_client, at, reason)
