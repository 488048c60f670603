"""The evaluations panel's fold (issue 17): order-tolerant, annulled ones out of the shares."""

from __future__ import annotations

from typing import Any

from services.dashboard.domain.evaluations import PREFIX, EvaluationState, evaluation_panel, fold_evaluation

S, B = "320505", "341600"


def _fold(events: list[tuple[str, dict[str, Any]]]) -> EvaluationState | None:
    state = None
    for what, data in events:
        state = fold_evaluation(state, PREFIX + what, {"evaluation_id": "e-1", "case_id": "c-1",
                                                       "item_code": "X", **data})
    return state


GIVEN = ("given", {"level": "dissatisfied", "responsible_locality": S})
OPENED = ("rectification_opened", {"locality": S, "due_on": "2026-10-21"})
OVERDUE = ("rectification_overdue", {"locality": S})
CLOSED = ("rectification_closed", {"locality": S, "on_time": False})


def test_a_rectification_only_moves_forward_whatever_order_its_events_come_in() -> None:
    in_order = _fold([GIVEN, OPENED, OVERDUE, CLOSED])
    shuffled = _fold([CLOSED, OVERDUE, GIVEN, OPENED])
    assert in_order == shuffled
    assert in_order is not None and in_order.rectification == "closed_late" and in_order.level == "dissatisfied"
    assert in_order.due_on == "2026-10-21"
    upheld = _fold([GIVEN, OPENED, ("appeal_decided", {"locality": S, "decision": "upheld"})])
    rejected = _fold([GIVEN, OPENED, ("appeal_decided", {"locality": S, "decision": "rejected"})])
    assert upheld is not None and upheld.rectification == "annulled"
    assert rejected is not None and rejected.rectification == "open"
    assert fold_evaluation(None, PREFIX + "given", {"case_id": "c-1", "level": "satisfied"}) is None


def test_the_panel_counts_per_locality_and_leaves_annulled_evaluations_out_of_the_shares() -> None:
    states = [
        EvaluationState("1", "c1", S, "X", "very_dissatisfied", "closed_on_time"),
        EvaluationState("2", "c2", S, "X", "satisfied"),
        EvaluationState("3", "c3", S, "X", "dissatisfied", "annulled"),
        EvaluationState("4", "c4", S, "X", "dissatisfied", "overdue"),
        EvaluationState("5", "c5", B, "X", "very_satisfied"),
    ]
    suzhou, bozhou = evaluation_panel(states, [S, B])
    assert suzhou["evaluations"] == 3 and suzhou["levels"]["dissatisfied"] == 1
    assert suzhou["shares"]["satisfied"] == round(1 / 3, 4)
    assert suzhou["rectifications"] == {"open": 0, "overdue": 1, "closed_on_time": 1, "closed_late": 0, "annulled": 1}
    assert suzhou["on_time_rate"] == 1.0
    assert bozhou["shares"]["very_satisfied"] == 1.0 and bozhou["on_time_rate"] is None
    assert evaluation_panel(states, [S])[0]["locality"] == S and len(evaluation_panel(states, [S])) == 1
    assert evaluation_panel([], ["331000"])[0]["shares"]["satisfied"] is None
