"""Handling time and on-time rate per owning locality and week: the pure rules (times from a fixed clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from services.dashboard.domain import apply_case_event
from services.dashboard.domain.handling import (
    Handling,
    first_moment,
    handling_marks,
    handling_trends,
    parse_due,
    week_of,
    weeks_back,
)

CHANGED = "cn.tongban.routing.case.status_changed.v1"
SUBMITTED = "cn.tongban.routing.case.submitted.v1"
YANGPU, SUZHOU, BOZHOU = "310110", "320505", "341600"


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """The injected clock of these tests: Wednesday 2 December 2026, 12:00 China Standard Time."""
    moment = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    return lambda: moment


def test_weeks_start_on_monday_in_china_standard_time() -> None:
    # Sunday 23:30 in Beijing is still that week; Monday 00:10 in Beijing (Sunday 16:10 UTC) is the next.
    assert week_of(datetime(2026, 11, 29, 15, 30, tzinfo=UTC)) == date(2026, 11, 23)
    assert week_of(datetime(2026, 11, 29, 16, 10, tzinfo=UTC)) == date(2026, 11, 30)
    assert first_moment(date(2026, 11, 30)) == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def test_the_last_weeks_end_with_the_current_one(clock: Callable[[], datetime]) -> None:
    mondays = weeks_back(clock(), 8)
    assert mondays[-1] == date(2026, 11, 30) and mondays[0] == date(2026, 10, 12)
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(mondays))


def test_on_time_is_judged_on_the_due_date_in_china_standard_time() -> None:
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    due = date(2026, 11, 25)
    late_evening = Handling("c", SUZHOU, start, datetime(2026, 11, 25, 15, 59, tzinfo=UTC), "result_issued", due)
    after_midnight = Handling("c", SUZHOU, start, datetime(2026, 11, 25, 16, 1, tzinfo=UTC), "result_issued", due)
    assert late_evening.on_time is True and after_midnight.on_time is False
    assert Handling("c", SUZHOU, start, start, "rejected").on_time is None
    assert Handling("c", SUZHOU, start, start - timedelta(seconds=3), "rejected").seconds == 0


def test_due_dates_are_read_from_what_the_read_model_keeps() -> None:
    assert parse_due("2026-11-25") == date(2026, 11, 25)
    assert parse_due("2026-11-25T00:00:00+08:00") == date(2026, 11, 25)
    assert parse_due(None) is None and parse_due("soon") is None


def test_the_earliest_acceptance_and_decision_win_whatever_the_order() -> None:
    t1, t2, t3 = (datetime(2026, 11, 30, h, tzinfo=UTC) for h in (1, 2, 3))
    marks = handling_marks(None, None, None, "result_issued", t3)
    marks = handling_marks(*marks, "accepted", t1)
    marks = handling_marks(*marks, "rejected", t2)  # an earlier decision read late wins
    assert marks == (t1, t2, "rejected")
    assert handling_marks(t1, t2, "rejected", "result_issued", t3) == (t1, t2, "rejected")
    assert handling_marks(None, None, None, "closed", t3) == (None, None, None)


def test_a_case_carries_its_acceptance_and_decision_times_even_when_read_out_of_order() -> None:
    t0 = datetime(2026, 11, 30, 1, tzinfo=UTC)
    case = apply_case_event(None, SUBMITTED, {"case_id": "c1", "accepting_locality": YANGPU,
                                              "owning_localities": [SUZHOU]}, t0)
    issued = {"case_id": "c1", "to_status": "result_issued", "sequence": 7}
    case = apply_case_event(case, CHANGED, issued, t0 + timedelta(days=3))
    accepted = {"case_id": "c1", "to_status": "accepted", "sequence": 2}
    case = apply_case_event(case, CHANGED, accepted, t0 + timedelta(hours=1))  # older, read late
    assert case is not None and case.status == "result_issued"
    assert case.accepted_at == t0 + timedelta(hours=1) and case.handled_at == t0 + timedelta(days=3)
    assert case.handled_status == "result_issued"


def test_trends_per_locality_and_week_with_medians_rates_and_empty_weeks(clock: Callable[[], datetime]) -> None:
    now = clock()
    this_monday = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
    last_monday = this_monday - timedelta(weeks=1)

    def handled(owner: str, ended: datetime, hours: float, due: date | None) -> Handling:
        return Handling(f"{owner}-{ended}-{hours}", owner, ended - timedelta(hours=hours), ended, "result_issued", due)

    rows = [
        handled(SUZHOU, this_monday, 2, date(2026, 11, 30)),
        handled(SUZHOU, this_monday + timedelta(days=1), 4, date(2026, 11, 30)),  # late
        handled(SUZHOU, this_monday + timedelta(days=1), 9, None),  # no deadline: timed, not judged
        handled(BOZHOU, last_monday, 24, date(2026, 11, 27)),
        handled(BOZHOU, now + timedelta(hours=1), 1, None),  # after the clock: left out
        handled(BOZHOU, now - timedelta(weeks=9), 1, None),  # before the first week: left out
        handled(YANGPU, this_monday, 1, None),  # not a locality of the viewer: left out
    ]
    trends = handling_trends(rows, now, [SUZHOU, BOZHOU], weeks=8)
    assert trends["weeks"][-1] == "2026-11-30" and len(trends["weeks"]) == 8
    assert [s["locality"] for s in trends["series"]] == [SUZHOU, BOZHOU]
    suzhou, bozhou = (s["points"] for s in trends["series"])
    assert suzhou[-1] == {"week": "2026-11-30", "handled": 3, "median_seconds": 4 * 3600.0, "with_deadline": 2,
                          "on_time": 1, "on_time_rate": 0.5}
    assert bozhou[-2] == {"week": "2026-11-23", "handled": 1, "median_seconds": 24 * 3600.0, "with_deadline": 1,
                          "on_time": 1, "on_time_rate": 1.0}
    assert bozhou[-1]["handled"] == 0 and bozhou[-1]["median_seconds"] is None and bozhou[-1]["on_time_rate"] is None
    assert all(p["handled"] == 0 for p in suzhou[:-1])
