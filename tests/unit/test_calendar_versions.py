"""The history of a year's schedule: versions, replacement, withdrawal (pure rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.routing.domain import YearSchedule
from services.routing.domain.calendar import NothingToWithdraw, YearHistory

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
NOTICE = YearSchedule(2027, frozenset({date(2027, 1, 1)}), frozenset(), "notice")


def test_a_year_is_loaded_replaced_and_withdrawn_as_versions() -> None:
    history = YearHistory(2027)
    assert history.current is None
    first = history.load(NOTICE, "310110", "office-1", AT)
    assert (first.version, first.change, first.by_client) == (1, "loaded", "office-1")
    history = replace(history, versions=(first,))
    assert history.current == NOTICE
    fixed = YearSchedule(2027, frozenset(), frozenset(), "corrected")
    second = history.load(fixed, "310110", "office-2", AT)
    assert (second.version, second.change) == (2, "replaced")
    history = replace(history, versions=(first, second))
    third = history.withdraw("310110", "office-1", AT, "notice revoked")
    assert (third.version, third.change, third.schedule, third.reason) == (3, "withdrawn", None, "notice revoked")
    history = replace(history, versions=(first, second, third))
    assert history.current is None
    with pytest.raises(NothingToWithdraw, match="withdrawn already") as twice:
        history.withdraw("310110", "office-1", AT, "again")
    assert twice.value.withdrawn_already
    assert history.load(NOTICE, "310110", "office-1", AT).change == "loaded", "after a withdrawal: loaded anew"


def test_nothing_to_withdraw_and_no_other_year() -> None:
    with pytest.raises(NothingToWithdraw, match="nothing to withdraw") as never:
        YearHistory(2030).withdraw("310110", "office-1", AT, "mistake")
    assert not never.value.withdrawn_already
    with pytest.raises(ValueError, match="not one of 2030"):
        YearHistory(2030).load(NOTICE, "310110", "office-1", AT)
