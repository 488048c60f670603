"""The evaluation and its rectification: levels, who is responsible, the life cycle. Pure: no I/O.

Five levels (非常满意 to 非常不满意); one evaluation per case and channel (``window``: the visit at the
accepting window, ``online``: the handling by the owner); the two lowest are *poor*, need reasons and a
comment, and open a rectification for the locality responsible, due in 15 working days on the statutory
calendar counted from the day after the evaluation. The rectification records call-backs to the
applicant and closes with its outcome (a call-back first); it is overdue the day after its due date
while open. The locality may appeal a poor evaluation it believes mistaken while its rectification is
open; a regional supervisor upholds the appeal (the evaluation is annulled: it leaves the figures and
its rectification ends) or rejects it (the rectification goes on, its due date unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from services.routing.domain.deadlines import WorkingCalendar

RECTIFICATION_WORKING_DAYS = 15
"""Working days a locality has to rectify a poor evaluation (the national 好差评 rules)."""


class Level(StrEnum):
    """The five levels, best first."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"

    @property
    def poor(self) -> bool:
        """The two lowest levels (差评)."""
        return self in (Level.DISSATISFIED, Level.VERY_DISSATISFIED)


LEVEL_WORDS = {
    Level.VERY_SATISFIED: "非常满意", Level.SATISFIED: "满意", Level.BASICALLY_SATISFIED: "基本满意",
    Level.DISSATISFIED: "不满意", Level.VERY_DISSATISFIED: "非常不满意",
}

Channel = Literal["window", "online"]
CHANNELS: tuple[Channel, ...] = ("window", "online")

REASONS = {
    "attitude": "服务态度 / attitude of the staff",
    "waiting": "等候时间长 / long wait",
    "repeated_visits": "多次跑腿 / had to come more than once",
    "unclear_notice": "告知不清 / unclear about what to bring",
    "slow_handling": "办理时间长 / slow handling",
    "result_delivery": "结果送达 / delivery of the result",
    "online_system": "网上系统 / the online system",
    "other": "其他 / other",
}
"""The reasons an applicant may give (codes and their words); the comment says the rest."""


class EvaluationRuleBroken(ValueError):
    """A rule of the evaluation or its rectification refused a step: the API answers ``status``."""

    def __init__(self, message: str, *, status: int = 409, slug: str = "evaluation-rule",
                 title: str = "Evaluation rule", **extra: Any) -> None:
        super().__init__(message)
        self.status, self.slug, self.title, self.extra = status, slug, title, extra


def responsible_locality(channel: Channel, accepting_locality: str, owners: tuple[str, ...]) -> str:
    """Who answers: the accepting window's locality for ``window``, the (lead) owner for ``online``."""
    return accepting_locality if channel == "window" else owners[0]


@dataclass(frozen=True)
class CallBack:
    """A call-back to the applicant about a poor evaluation."""

    at: datetime
    by_client: str
    reached: bool
    note: str
    """Masked (shared/masking.py) before it is recorded."""


@dataclass(frozen=True)
class Appeal:
    """The locality's appeal against the evaluation, and the regional supervisor's decision."""

    reason: str
    by_client: str
    at: datetime
    decision: Literal["upheld", "rejected"] | None = None
    decision_reason: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None


RectificationStatus = Literal["open", "closed", "annulled"]


@dataclass(frozen=True)
class Rectification:
    """What the locality responsible does about a poor evaluation, and by when."""

    locality: str
    opened_on: date
    due_on: date
    provisional: bool
    status: RectificationStatus = "open"
    call_backs: tuple[CallBack, ...] = ()
    outcome: str = ""
    closed_on: date | None = None
    overdue_notified: bool = False
    appeal: Appeal | None = None

    @classmethod
    def open(cls, locality: str, on: date, calendar: WorkingCalendar) -> Rectification:
        """A rectification due 15 working days after ``on`` (the day after it is the first)."""
        due, provisional = calendar.add_working_days(on, RECTIFICATION_WORKING_DAYS)
        return cls(locality=locality, opened_on=on, due_on=due, provisional=provisional)

    def overdue(self, today: date) -> bool:
        """Open past its due date."""
        return self.status == "open" and today > self.due_on

    @property
    def on_time(self) -> bool | None:
        """Closed by its due date (None while open or annulled)."""
        return None if self.status != "closed" or self.closed_on is None else self.closed_on <= self.due_on

    def _open_only(self, what: str) -> None:
        if self.status != "open":
            raise EvaluationRuleBroken(f"the rectification is {self.status}: no {what} any more",
                                       slug="rectification-not-open", title="Rectification not open",
                                       rectification_status=self.status)

    def call_back(self, record: CallBack) -> Rectification:
        """Record a call-back to the applicant."""
        self._open_only("call-back")
        return replace(self, call_backs=(*self.call_backs, record))

    def close(self, outcome: str, on: date) -> Rectification:
        """Close with the outcome; a call-back must be recorded first."""
        self._open_only("outcome")
        if not outcome.strip():
            raise EvaluationRuleBroken("the outcome must say what was done", status=422,
                                       slug="outcome-missing", title="Outcome missing")
        if not self.call_backs:
            raise EvaluationRuleBroken("call the applicant back before closing the rectification",
                                       slug="call-back-missing", title="Call-back missing")
        if self.appeal is not None and self.appeal.decision is None:
            raise EvaluationRuleBroken("an appeal is waiting for the regional supervisor's decision",
                                       slug="appeal-pending", title="Appeal pending")
        return replace(self, status="closed", outcome=outcome.strip(), closed_on=on)

    def lodge_appeal(self, reason: str, by_client: str, at: datetime) -> Rectification:
        """The locality believes the evaluation mistaken: once, while the rectification is open."""
        self._open_only("appeal")
        if self.appeal is not None:
            raise EvaluationRuleBroken("this evaluation was appealed already", slug="appeal-exists",
                                       title="Appeal exists", appeal_decision=self.appeal.decision)
        if not reason.strip():
            raise EvaluationRuleBroken("an appeal needs its reason", status=422, slug="appeal-reason-missing",
                                       title="Appeal reason missing")
        return replace(self, appeal=Appeal(reason=reason.strip(), by_client=by_client, at=at))

    def decide_appeal(self, decision: Literal["upheld", "rejected"], reason: str, by_client: str,
                      at: datetime) -> Rectification:
        """The regional supervisor's decision: ``upheld`` annuls the evaluation and ends the rectification."""
        if self.appeal is None:
            raise EvaluationRuleBroken("no appeal was lodged", slug="no-appeal", title="No appeal")
        if self.appeal.decision is not None:
            raise EvaluationRuleBroken(f"the appeal was {self.appeal.decision} already", slug="appeal-decided",
                                       title="Appeal decided", appeal_decision=self.appeal.decision)
        if not reason.strip():
            raise EvaluationRuleBroken("a decision needs its reason", status=422, slug="decision-reason-missing",
                                       title="Decision reason missing")
        appeal = replace(self.appeal, decision=decision, decision_reason=reason.strip(), decided_by=by_client,
                         decided_at=at)
        return replace(self, appeal=appeal, status="annulled" if decision == "upheld" else self.status)


@dataclass(frozen=True)
class Evaluation:
    """The applicant's evaluation of one case through one channel."""

    id: str
    case_id: str
    item_code: str
    channel: Channel
    level: Level
    reasons: tuple[str, ...]
    comment: str
    responsible_locality: str
    given_at: datetime
    given_on: date
    rectification: Rectification | None = None
    involved: tuple[str, ...] = field(default=())

    @property
    def annulled(self) -> bool:
        """An appeal against it was upheld: it counts no more."""
        return self.rectification is not None and self.rectification.status == "annulled"

    @classmethod
    def give(cls, *, id: str, case_id: str, item_code: str, channel: str, level: str, reasons: list[str],
             comment: str, accepting_locality: str, owners: tuple[str, ...], accepted: bool, given_at: datetime,
             given_on: date, calendar: WorkingCalendar) -> Evaluation:
        """The applicant's evaluation, checked; a poor one with its rectification opened."""
        if channel not in CHANNELS:
            raise EvaluationRuleBroken(f"channel must be one of {', '.join(CHANNELS)}", status=422,
                                       slug="invalid-channel", title="Invalid channel")
        if not accepted:
            raise EvaluationRuleBroken("a case is evaluated once the window accepted it",
                                       slug="case-not-accepted", title="Case not accepted")
        try:
            chosen = Level(level)
        except ValueError as exc:
            raise EvaluationRuleBroken(f"level must be one of {', '.join(m.value for m in Level)}", status=422,
                                       slug="invalid-level", title="Invalid level") from exc
        unknown = sorted(set(reasons) - set(REASONS))
        if unknown:
            raise EvaluationRuleBroken(f"unknown reasons: {', '.join(unknown)}", status=422, slug="invalid-reason",
                                       title="Invalid reason", known=sorted(REASONS))
        if chosen.poor and (not reasons or not comment.strip()):
            raise EvaluationRuleBroken(f"a {LEVEL_WORDS[chosen]} evaluation needs its reasons and a comment",
                                       status=422, slug="reasons-required", title="Reasons required")
        responsible = responsible_locality(channel, accepting_locality, owners)  # type: ignore[arg-type]
        return cls(
            id=id, case_id=case_id, item_code=item_code, channel=channel, level=chosen,  # type: ignore[arg-type]
            reasons=tuple(dict.fromkeys(reasons)), comment=comment.strip(), responsible_locality=responsible,
            given_at=given_at, given_on=given_on,
            rectification=Rectification.open(responsible, given_on, calendar) if chosen.poor else None,
            involved=tuple(dict.fromkeys([accepting_locality, *owners])),
        )

    def with_rectification(self, rectification: Rectification) -> Evaluation:
        """The evaluation after a step of its rectification."""
        return replace(self, rectification=rectification)

    def rectifying(self) -> Rectification:
        """Its rectification (a 409 when the evaluation was not poor)."""
        if self.rectification is None:
            raise EvaluationRuleBroken(f"a {LEVEL_WORDS[self.level]} evaluation opens no rectification",
                                       slug="no-rectification", title="No rectification")
        return self.rectification
