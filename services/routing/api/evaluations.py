"""The applicant's evaluation (好差评): given through the status query, rectified and appealed by the
locality responsible, decided by a regional supervisor; figures per locality and item.

The public route checks the case number and query code exactly as the status query does (the same
uniform 404 and the same throttle of wrong pairs per address); the others take a token. See
docs/evaluations.md.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from services.routing.api.status import case_by_query_code
from services.routing.evaluations import service
from services.routing.evaluations.domain import LEVEL_WORDS, REASONS, Evaluation, EvaluationRuleBroken
from shared import clock
from shared.api_types import CursorPage, Timestamp, set_location
from shared.auth import Caller, Role, require
from shared.contracts.evaluations import EvaluationChannel, EvaluationLevel
from shared.openapi import problems
from shared.problems import Forbidden, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

public_evaluations = APIRouter(prefix="/v1/status", tags=["evaluations"])
evaluations = APIRouter(prefix="/v1/evaluations", tags=["evaluations"])
evaluation_stats = APIRouter(prefix="/v1/statistics", tags=["statistics"])
rectifications = APIRouter(prefix="/v1/rectifications", tags=["evaluations"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(require(Role.SUPERVISOR, Role.OPERATOR, Role.REGIONAL_SUPERVISOR))]
Rectifier = Annotated[Caller, Depends(require(Role.SUPERVISOR))]
RegionalSupervisor = Annotated[Caller, Depends(require(Role.REGIONAL_SUPERVISOR))]
EvaluationId = Annotated[str, Path(max_length=36)]


def rule_problem(exc: EvaluationRuleBroken) -> Problem:
    """The problem+json answer of a broken evaluation rule."""
    return Problem(str(exc), status=exc.status, slug=exc.slug, title=exc.title, **exc.extra)


class EvaluationIn(BaseModel):
    """The applicant's evaluation; reasons and a comment are needed for the two lowest levels."""

    model_config = ConfigDict(extra="forbid")

    channel: EvaluationChannel = Field(description="`window`: the visit at the accepting window; "
                                                   "`online`: the handling by the owner.")
    level: EvaluationLevel = Field(description="非常满意 very_satisfied … 非常不满意 very_dissatisfied.")
    reasons: list[Literal[tuple(REASONS)]] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=len(REASONS), description="Codes: " + "; ".join(
            f"`{k}` {v}" for k, v in REASONS.items()))
    comment: str = Field("", max_length=500, description="Masked (identity and phone numbers) before it is kept.")


class EvaluationReceipt(BaseModel):
    """What the applicant is told: the evaluation is recorded (and, for a poor one, when it is rectified by)."""

    id: str
    case_number: str
    channel: EvaluationChannel
    level: EvaluationLevel
    words: str
    given_on: date
    rectification_due_on: date | None = Field(description="A poor evaluation: the locality answers by this day.")


class CallBackView(BaseModel):
    """A call-back to the applicant."""

    at: Timestamp
    by_client: str
    reached: bool
    note: str


class AppealView(BaseModel):
    """The locality's appeal and its decision."""

    reason: str
    by_client: str
    at: Timestamp
    decision: Literal["upheld", "rejected"] | None
    decision_reason: str
    decided_by: str
    decided_at: Timestamp | None


class RectificationView(BaseModel):
    """The rectification of a poor evaluation."""

    locality: str
    status: Literal["open", "closed", "annulled"]
    opened_on: date
    due_on: date
    provisional: bool
    overdue: bool
    on_time: bool | None
    call_backs: list[CallBackView]
    outcome: str
    closed_on: date | None
    appeal: AppealView | None


class EvaluationView(BaseModel):
    """An evaluation as the case's localities and the regional supervisors read it (no applicant)."""

    id: str
    case_id: str
    item_code: str
    channel: EvaluationChannel
    level: EvaluationLevel
    words: str
    reasons: list[str]
    comment: str
    responsible_locality: str
    given_at: Timestamp
    given_on: date
    annulled: bool
    rectification: RectificationView | None

    @classmethod
    def of(cls, e: Evaluation) -> EvaluationView:
        r = e.rectification
        today = clock.current().today()
        return cls(
            id=e.id, case_id=e.case_id, item_code=e.item_code, channel=e.channel, level=e.level.value,
            words=LEVEL_WORDS[e.level], reasons=list(e.reasons), comment=e.comment,
            responsible_locality=e.responsible_locality, given_at=e.given_at, given_on=e.given_on,
            annulled=e.annulled,
            rectification=None if r is None else RectificationView(
                locality=r.locality, status=r.status, opened_on=r.opened_on, due_on=r.due_on,
                provisional=r.provisional, overdue=r.overdue(today), on_time=r.on_time,
                call_backs=[CallBackView(at=c.at, by_client=c.by_client, reached=c.reached, note=c.note)
                            for c in r.call_backs],
                outcome=r.outcome, closed_on=r.closed_on,
                appeal=None if r.appeal is None else AppealView(
                    reason=r.appeal.reason, by_client=r.appeal.by_client, at=r.appeal.at,
                    decision=r.appeal.decision, decision_reason=r.appeal.decision_reason,
                    decided_by=r.appeal.decided_by, decided_at=r.appeal.decided_at)))


class EvaluationPage(CursorPage):
    """A page of evaluations, oldest first."""

    evaluations: list[EvaluationView]


class CallBackIn(BaseModel):
    """A call-back to the applicant: reached or not, and what was said."""

    model_config = ConfigDict(extra="forbid")

    reached: bool = Field(strict=True)
    note: str = Field(min_length=1, max_length=1000)


class OutcomeIn(BaseModel):
    """What the locality did about the evaluation."""

    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(min_length=1, max_length=2000)


class AppealIn(BaseModel):
    """Why the locality believes the evaluation mistaken."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    """The regional supervisor's decision: ``upheld`` annuls the evaluation."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["upheld", "rejected"]
    reason: str = Field(min_length=1, max_length=2000)


class LevelCounts(BaseModel):
    """A count (or share) per level."""

    very_satisfied: float | None
    satisfied: float | None
    basically_satisfied: float | None
    dissatisfied: float | None
    very_dissatisfied: float | None


class RectificationCounts(BaseModel):
    """Rectifications of an item by state; the on-time rate of the closed ones."""

    open: int
    overdue: int
    closed_on_time: int
    closed_late: int
    annulled: int
    on_time_rate: float | None


class ItemEvaluations(BaseModel):
    """One item's evaluations the locality answers for."""

    item_code: str
    evaluations: int = Field(description="Standing evaluations (annulled ones left out).")
    annulled: int
    levels: LevelCounts
    shares: LevelCounts
    rectifications: RectificationCounts


class EvaluationFigures(BaseModel):
    """A locality's evaluation figures per item."""

    locality: str
    items: list[ItemEvaluations]
    level_words: dict[str, str]


class ScanCount(BaseModel):
    """Rectifications announced overdue by this scan."""

    overdue: int


@public_evaluations.post(
    "/{case_id}/evaluations", status_code=201, summary="Evaluate a case (好差评), by case number and query code",
    responses={404: {"description": "the same answer for every wrong pair"},
               409: {"description": "this case was evaluated through this channel already"},
               429: {"description": "too many wrong pairs from this address; see Retry-After"}})
async def give_evaluation(case_id: Annotated[str, Path(max_length=64)], body: EvaluationIn, request: Request,
                          response: Response, uow: Uow, ctx: Ctx,
                          code: Annotated[str, Query(min_length=1, max_length=32,
                                                     description="The query code on the receipt notice.")]
                          ) -> EvaluationReceipt:
    async with uow:
        row = await case_by_query_code(uow, ctx, request, case_id, code)
        try:
            evaluation = await service.give(uow, ctx.state["calendar"].calendar, row, body.channel, body.level,
                                            list(body.reasons), body.comment)
            await uow.commit()
        except EvaluationRuleBroken as exc:
            raise rule_problem(exc) from exc
        except IntegrityError:  # the same case and channel raced in
            raise Problem(f"this case was evaluated through the {body.channel} channel already", status=409,
                          slug="evaluation-exists", title="Evaluation exists", channel=body.channel) from None
    set_location(response, f"/v1/evaluations/{evaluation.id}")
    r = evaluation.rectification
    return EvaluationReceipt(id=evaluation.id, case_number=case_id, channel=evaluation.channel,
                             level=evaluation.level.value, words=LEVEL_WORDS[evaluation.level],
                             given_on=evaluation.given_on, rectification_due_on=r.due_on if r else None)


@evaluations.get("", summary="The evaluations a locality answers for, by the state of their rectification")
async def list_evaluations(
    uow: Uow, caller: Reader,
    locality: Annotated[str | None, Query(pattern=r"^\d{6}$", description="A regional supervisor's choice (all "
                                          "localities without it); the caller's own locality otherwise.")] = None,
    rectification: Annotated[Literal["open", "overdue", "closed", "annulled", "none"] | None, Query(
        description="`overdue`: open past its due date; `none`: evaluations that opened no rectification.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> EvaluationPage:
    async with uow:
        try:
            found, next_cursor = await service.listing(uow, caller, locality, rectification, limit, cursor)
        except EvaluationRuleBroken as exc:
            raise rule_problem(exc) from exc
    return EvaluationPage(evaluations=[EvaluationView.of(e) for e in found], next_cursor=next_cursor)


@evaluations.get("/{evaluation_id}", summary="An evaluation and its rectification")
async def get_evaluation(evaluation_id: EvaluationId, uow: Uow, caller: Reader) -> EvaluationView:
    async with uow:
        return EvaluationView.of(await service.read(uow, caller, evaluation_id))


async def _step(uow: UnitOfWork, work: object) -> EvaluationView:
    try:
        evaluation: Evaluation = await work  # type: ignore[misc]
        await uow.commit()
    except EvaluationRuleBroken as exc:
        raise rule_problem(exc) from exc
    return EvaluationView.of(evaluation)


@evaluations.post("/{evaluation_id}/call-backs", summary="Record a call-back to the applicant",
                  responses=problems(403, 409))
async def record_call_back(evaluation_id: EvaluationId, body: CallBackIn, uow: Uow,
                           caller: Rectifier) -> EvaluationView:
    async with uow:
        return await _step(uow, service.call_back(uow, caller, evaluation_id, body.reached, body.note))


@evaluations.post("/{evaluation_id}/outcome", summary="Close the rectification with its outcome",
                  responses=problems(403, 409))
async def close_rectification(evaluation_id: EvaluationId, body: OutcomeIn, uow: Uow,
                              caller: Rectifier) -> EvaluationView:
    async with uow:
        return await _step(uow, service.close(uow, caller, evaluation_id, body.outcome))


@evaluations.post("/{evaluation_id}/appeal", summary="Appeal an evaluation the locality believes mistaken",
                  responses=problems(403, 409))
async def lodge_appeal(evaluation_id: EvaluationId, body: AppealIn, uow: Uow, caller: Rectifier) -> EvaluationView:
    async with uow:
        return await _step(uow, service.appeal(uow, caller, evaluation_id, body.reason))


@evaluations.post("/{evaluation_id}/appeal/decision", summary="Decide an appeal (regional supervisor)",
                  responses=problems(403, 409))
async def decide_appeal(evaluation_id: EvaluationId, body: DecisionIn, uow: Uow,
                        caller: RegionalSupervisor) -> EvaluationView:
    async with uow:
        return await _step(uow, service.decide(uow, caller, evaluation_id, body.decision, body.reason))


@evaluation_stats.get("/evaluations", summary="Evaluation figures of a locality per item")
async def evaluation_figures(
    uow: Uow, ctx: Ctx, caller: Reader,
    locality: Annotated[str | None, Query(pattern=r"^\d{6}$", description="A regional supervisor's choice; "
                                          "the caller's own locality otherwise.")] = None,
    item: Annotated[str | None, Query(max_length=32)] = None,
) -> EvaluationFigures:
    chosen = locality or caller.locality
    if chosen != caller.locality and not caller.has(Role.REGIONAL_SUPERVISOR.value):
        raise Forbidden(f"a locality reads its own figures; {chosen}'s are for the regional supervisors")
    if chosen not in ctx.localities:
        raise Problem(f"locality {chosen} is not registered", status=422, slug="unknown-locality",
                      title="Unknown locality")
    async with uow:
        return EvaluationFigures.model_validate(
            await service.figures(uow, chosen, item, clock.current().today()))


@rectifications.post("/scan", summary="Look for rectifications overdue now (also done periodically)")
async def scan_rectifications(uow: Uow, _caller: Annotated[Caller, Depends(require(Role.OPERATOR, Role.MAINTAINER))]
                              ) -> ScanCount:
    async with uow:
        count = await service.scan_rectifications(uow, clock.current().today())
        await uow.commit()
    return ScanCount(overdue=count)


routers = [public_evaluations, evaluations, evaluation_stats, rectifications]
