"""The evaluation's rules (好差评, issue 17): levels, reasons, who is responsible, the rectification's
due date on the statutory calendar, call-back before the outcome, the appeal and its decision."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.routing.deadlines import library_schedules
from services.routing.domain import WorkingCalendar
from services.routing.evaluations.domain import (
    CallBack,
    Evaluation,
    EvaluationRuleBroken,
    Level,
    Rectification,
    responsible_locality,
)

S, B, T = "320505", "341600", "331000"
AT = datetime(2026, 9, 23, 2, 0, tzinfo=UTC)
CALENDAR = WorkingCalendar(library_schedules())


def _give(**changes: Any) -> Evaluation:
    args: dict[str, Any] = {
        "id": "e-1", "case_id": "c-1", "item_code": "YRD-SB-0002", "channel": "window",
        "level": "very_dissatisfied", "reasons": ["waiting"], "comment": "等了两个小时",
        "accepting_locality": S, "owners": (B,), "accepted": True, "given_at": AT, "given_on": date(2026, 9, 23),
        "calendar": CALENDAR, **changes}
    return Evaluation.give(**args)


def _slug(exc: pytest.ExceptionInfo[EvaluationRuleBroken]) -> str:
    return exc.value.slug


def test_the_two_lowest_levels_are_poor_and_need_reasons_and_a_comment() -> None:
    assert [level.poor for level in Level] == [False, False, False, True, True]
    with pytest.raises(EvaluationRuleBroken) as no_reason:
        _give(reasons=[])
    with pytest.raises(EvaluationRuleBroken) as no_comment:
        _give(level="dissatisfied", comment="  ")
    assert _slug(no_reason) == _slug(no_comment) == "reasons-required" and no_reason.value.status == 422
    content = _give(level="satisfied", reasons=[], comment="")
    assert content.rectification is None and content.level is Level.SATISFIED
    with pytest.raises(EvaluationRuleBroken) as unknown:
        _give(reasons=["weather"])
    assert _slug(unknown) == "invalid-reason"
    with pytest.raises(EvaluationRuleBroken) as not_accepted:
        _give(accepted=False)
    assert _slug(not_accepted) == "case-not-accepted"


def test_the_window_answers_for_the_visit_and_the_lead_owner_for_online_handling() -> None:
    assert responsible_locality("window", S, (B, T)) == S
    assert responsible_locality("online", S, (B, T)) == B
    online = _give(channel="online")
    assert online.responsible_locality == B and online.rectification is not None
    assert online.rectification.locality == B and online.involved == (S, B)


def test_a_poor_evaluation_is_rectified_in_15_working_days_across_mid_autumn_and_national_day() -> None:
    # Given Wednesday 23 September 2026: the 25th (Mid-Autumn) and 1-7 October are holidays, Saturday
    # 10 October a working day; the 15th working day after the 23rd is Wednesday 21 October.
    rectification = _give().rectification
    assert rectification is not None and rectification.due_on == date(2026, 10, 21)
    assert not rectification.provisional
    assert WorkingCalendar().add_working_days(date(2026, 9, 23), 15)[0] == date(2026, 10, 14), \
        "on weekends alone it would be a week earlier"
    assert not rectification.overdue(date(2026, 10, 21)) and rectification.overdue(date(2026, 10, 22))


def test_the_outcome_needs_a_call_back_first_and_closes_on_time_or_late() -> None:
    rectification = Rectification.open(S, date(2026, 9, 23), CALENDAR)
    with pytest.raises(EvaluationRuleBroken) as early:
        rectification.close("道歉并改进叫号", date(2026, 10, 9))
    assert _slug(early) == "call-back-missing"
    called = rectification.call_back(CallBack(AT, "client-1", reached=True, note="已电话回访"))
    on_time = called.close("道歉并改进叫号", date(2026, 10, 21))
    late = called.close("道歉并改进叫号", date(2026, 10, 22))
    assert on_time.status == "closed" and on_time.on_time is True and late.on_time is False
    with pytest.raises(EvaluationRuleBroken) as again:
        on_time.call_back(CallBack(AT, "client-1", reached=False, note="again"))
    assert _slug(again) == "rectification-not-open"
    with pytest.raises(EvaluationRuleBroken) as empty:
        called.close("   ", date(2026, 10, 9))
    assert empty.value.status == 422


def test_an_appeal_once_and_a_regional_decision_once() -> None:
    evaluation = _give()
    rectification = evaluation.rectifying()
    with pytest.raises(EvaluationRuleBroken) as nothing:
        rectification.decide_appeal("upheld", "x", "regional", AT)
    assert _slug(nothing) == "no-appeal"
    appealed = rectification.lodge_appeal("the applicant rated the wrong window", "client-1", AT)
    with pytest.raises(EvaluationRuleBroken) as twice:
        appealed.lodge_appeal("again", "client-1", AT)
    assert _slug(twice) == "appeal-exists"
    called = appealed.call_back(CallBack(AT, "client-1", reached=True, note="回访"))
    with pytest.raises(EvaluationRuleBroken) as pending:
        called.close("done", date(2026, 10, 9))
    assert _slug(pending) == "appeal-pending"
    rejected = called.decide_appeal("rejected", "the rating concerns this window", "regional", AT)
    assert rejected.status == "open" and rejected.due_on == rectification.due_on
    assert rejected.close("done", date(2026, 10, 9)).on_time
    upheld = evaluation.with_rectification(appealed.decide_appeal("upheld", "wrong window", "regional", AT))
    assert upheld.annulled and upheld.rectifying().status == "annulled" and not upheld.rectifying().overdue(
        date(2026, 12, 1))
    with pytest.raises(EvaluationRuleBroken) as decided:
        upheld.rectifying().decide_appeal("rejected", "x", "regional", AT)
    assert _slug(decided) == "appeal-decided"


def test_a_good_evaluation_has_no_rectification_to_act_on() -> None:
    with pytest.raises(EvaluationRuleBroken) as none:
        _give(level="very_satisfied", reasons=[], comment="").rectifying()
    assert _slug(none) == "no-rectification" and none.value.status == 409
