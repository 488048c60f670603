"""The evaluations panel's rules (好差评, issue 17): routing's evaluation events folded into one state per
evaluation, and the panel per locality responsible. Pure: no I/O.

An evaluation's events travel on the topics of both of its case's localities, and the dashboard takes
each the first time it sees it on any of them, so they may come out of order; the fold only moves a
rectification forward (none, open, overdue, then closed or annulled), whatever order they come in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

PREFIX = "cn.tongban.routing.evaluation."
EVALUATION_TYPES = frozenset(PREFIX + what for what in (
    "given", "rectification_opened", "rectification_overdue", "rectification_closed", "appeal_decided"))
"""The types (without version) this panel folds."""
LEVELS = ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied")
RANK = {"none": 0, "open": 1, "overdue": 2, "closed_on_time": 3, "closed_late": 3, "annulled": 4}


@dataclass(frozen=True)
class EvaluationState:
    """What the dashboard knows of one evaluation (no applicant, no comment)."""

    evaluation_id: str
    case_id: str
    locality: str
    item_code: str
    level: str | None = None
    rectification: str = "none"
    due_on: str | None = None


def _forward(state: EvaluationState, to: str) -> EvaluationState:
    return replace(state, rectification=to) if RANK[to] > RANK[state.rectification] else state


def fold_evaluation(current: EvaluationState | None, ce_type: str, data: Mapping[str, Any]) -> EvaluationState | None:
    """``current`` after one event (``ce_type`` without version); None when the event says nothing usable."""
    evaluation_id, case_id = data.get("evaluation_id"), data.get("case_id")
    locality = data.get("responsible_locality", data.get("locality"))
    if not all(isinstance(v, str) for v in (evaluation_id, case_id, locality)):
        return None
    state = current or EvaluationState(str(evaluation_id), str(case_id), str(locality), str(data.get("item_code", "")))
    what = ce_type.removeprefix(PREFIX)
    if what == "given" and data.get("level") in LEVELS:
        return replace(state, level=str(data["level"]))
    if what == "rectification_opened":
        return replace(_forward(state, "open"), due_on=str(data.get("due_on") or "") or state.due_on)
    if what == "rectification_overdue":
        return _forward(state, "overdue")
    if what == "rectification_closed":
        return _forward(state, "closed_on_time" if data.get("on_time") is True else "closed_late")
    if what == "appeal_decided" and data.get("decision") == "upheld":
        return _forward(state, "annulled")
    return state


def evaluation_panel(states: Iterable[EvaluationState], localities: Sequence[str]) -> list[dict[str, Any]]:
    """Per locality: standing evaluations, the share of each level, rectifications by state, the on-time rate."""
    by_locality: dict[str, list[EvaluationState]] = {code: [] for code in localities}
    for state in states:
        if state.locality in by_locality:
            by_locality[state.locality].append(state)
    panel = []
    for code, group in by_locality.items():
        standing = [s for s in group if s.level is not None and s.rectification != "annulled"]
        counts = {level: sum(1 for s in standing if s.level == level) for level in LEVELS}
        rect = {name: sum(1 for s in group if s.rectification == name)
                for name in ("open", "overdue", "closed_on_time", "closed_late", "annulled")}
        closed = rect["closed_on_time"] + rect["closed_late"]
        panel.append({
            "locality": code, "evaluations": len(standing), "levels": counts,
            "shares": {level: round(n / len(standing), 4) if standing else None for level, n in counts.items()},
            "rectifications": rect,
            "on_time_rate": round(rect["closed_on_time"] / closed, 4) if closed else None,
        })
    return panel
