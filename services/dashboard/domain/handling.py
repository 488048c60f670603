"""Handling time and on-time rate per owning locality and week. Pure: no I/O, no clock.

A case is *handled* when the owners decide it: the first change to ``result_issued`` or
``rejected`` (the statuses after which the owner's deadline stops running). Its handling time runs
from acceptance (受理, the first change to ``accepted``) to that moment; it is *on time* when it was
handled on or before the owner's due date, in China Standard Time (the statutory calendar's days).
Weeks start on Monday (China Standard Time); a case counts in the week it was handled, once for
every locality that owns it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from statistics import median
from typing import Any

CHINA = timezone(timedelta(hours=8), "CST")
"""China Standard Time (no daylight saving): the days of due dates and the edges of weeks."""
HANDLED = frozenset({"result_issued", "rejected"})
"""Statuses that end handling: the owners decided (a result is issued or the application refused)."""
STARTED = "accepted"
"""The status from which handling time counts: acceptance at the window."""
MAX_WEEKS = 26


@dataclass(frozen=True)
class Handling:
    """One owner's handling of one case: when it started and ended, and the owner's due date."""

    case_id: str
    owner: str
    started_at: datetime
    ended_at: datetime
    end_status: str
    due_on: date | None = None

    @property
    def seconds(self) -> float:
        """How long handling took (never negative: events may carry slightly skewed clocks)."""
        return max((self.ended_at - self.started_at).total_seconds(), 0.0)

    @property
    def on_time(self) -> bool | None:
        """Handled on or before the due date (China Standard Time); None without a due date."""
        if self.due_on is None:
            return None
        return self.ended_at.astimezone(CHINA).date() <= self.due_on


def handling_marks(
    accepted_at: datetime | None, handled_at: datetime | None, handled_status: str | None,
    to_status: str | None, at: datetime,
) -> tuple[datetime | None, datetime | None, str | None]:
    """(accepted at, handled at, handled status) of a case after a change to ``to_status`` at ``at``.

    Order-independent: the earliest acceptance and the earliest decision win, whatever order the
    events arrive in (a late copy moves nothing forward).
    """
    if to_status == STARTED and (accepted_at is None or at < accepted_at):
        accepted_at = at
    if to_status in HANDLED and (handled_at is None or at < handled_at):
        handled_at, handled_status = at, to_status
    return accepted_at, handled_at, handled_status


def parse_due(value: str | None) -> date | None:
    """A stored due date (``2026-03-02`` or a datetime's text) as a date; None when unreadable."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def week_of(moment: datetime) -> date:
    """The Monday (China Standard Time) of the week ``moment`` falls in."""
    day = moment.astimezone(CHINA).date()
    return day - timedelta(days=day.weekday())


def weeks_back(now: datetime, weeks: int) -> list[date]:
    """The Mondays of the last ``weeks`` weeks, oldest first, the current week last."""
    current = week_of(now)
    return [current - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def first_moment(week: date) -> datetime:
    """Monday 00:00 China Standard Time of ``week``, in UTC: where a query for the weeks starts."""
    return datetime(week.year, week.month, week.day, tzinfo=CHINA).astimezone(UTC)


def handling_trends(
    rows: Iterable[Handling], now: datetime, localities: Sequence[str], weeks: int = 8
) -> dict[str, Any]:
    """Per locality and week: cases handled, median handling time and the share handled on time.

    Every locality of ``localities`` has a point for every week (zeros and nulls where nothing was
    handled); handlings of other owners, before the first week or after ``now`` are left out.
    """
    mondays = weeks_back(now, weeks)
    index = {monday: i for i, monday in enumerate(mondays)}
    buckets: dict[str, list[list[Handling]]] = {code: [[] for _ in mondays] for code in localities}
    for row in rows:
        if row.owner not in buckets or row.ended_at > now:
            continue
        slot = index.get(week_of(row.ended_at))
        if slot is not None:
            buckets[row.owner][slot].append(row)
    series = []
    for code, per_week in buckets.items():
        points = []
        for monday, handled in zip(mondays, per_week, strict=True):
            judged = [h.on_time for h in handled if h.on_time is not None]
            points.append({
                "week": monday.isoformat(),
                "handled": len(handled),
                "median_seconds": round(median(h.seconds for h in handled), 1) if handled else None,
                "with_deadline": len(judged),
                "on_time": sum(judged),
                "on_time_rate": round(sum(judged) / len(judged), 4) if judged else None,
            })
        series.append({"locality": code, "points": points})
    return {"weeks": [m.isoformat() for m in mondays], "now": now.astimezone(UTC).isoformat(), "series": series}
