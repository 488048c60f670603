"""Events of the applicant's evaluation (好差评, issue 17), published by routing.

No personal data: neither the applicant nor the comment; the level, the reasons' codes, the locality
responsible and the rectification's dates. Each goes to the topics of the case's localities, keyed by
the case id (in order with the case's own events).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from shared.envelope import Event, event_type

EvaluationLevel = Literal["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]
EvaluationChannel = Literal["window", "online"]


@event_type
class EvaluationGiven(Event):
    """The applicant evaluated a case through one channel."""

    type_name = "cn.tongban.routing.evaluation.given"

    evaluation_id: str
    case_id: str
    item_code: str
    channel: EvaluationChannel
    level: EvaluationLevel
    poor: bool
    reasons: list[str]
    responsible_locality: str
    given_on: date

    def subject(self) -> str:
        return self.case_id


@event_type
class RectificationOpened(Event):
    """A poor evaluation opened a rectification for the locality responsible."""

    type_name = "cn.tongban.routing.evaluation.rectification_opened"

    evaluation_id: str
    case_id: str
    item_code: str
    locality: str
    due_on: date
    provisional: bool = False

    def subject(self) -> str:
        return self.case_id


@event_type
class RectificationOverdue(Event):
    """A rectification passed its due date still open: for the locality's supervisors."""

    type_name = "cn.tongban.routing.evaluation.rectification_overdue"

    evaluation_id: str
    case_id: str
    item_code: str
    locality: str
    due_on: date

    def subject(self) -> str:
        return self.case_id


@event_type
class RectificationClosed(Event):
    """The locality closed a rectification with its outcome (after calling the applicant back)."""

    type_name = "cn.tongban.routing.evaluation.rectification_closed"

    evaluation_id: str
    case_id: str
    item_code: str
    locality: str
    due_on: date
    closed_on: date
    on_time: bool
    call_backs: int

    def subject(self) -> str:
        return self.case_id


@event_type
class AppealDecided(Event):
    """A regional supervisor decided a locality's appeal against an evaluation."""

    type_name = "cn.tongban.routing.evaluation.appeal_decided"

    evaluation_id: str
    case_id: str
    item_code: str
    locality: str
    decision: Literal["upheld", "rejected"]
    """``upheld``: the evaluation is annulled (out of the figures) and its rectification ends."""
    decided_by_locality: str

    def subject(self) -> str:
        return self.case_id
