"""REST API of the routing service: submitting cases and moving them through their life cycle."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from services.routing.authorization import AuthorizationClient
from services.routing.domain import TRANSITIONS, Case, IllegalTransition, InvalidIdentifier, Side, applicant_ref
from services.routing.store import CaseRepository, KnownItemRepository
from shared.auth import Caller, InsufficientRole, Role, authenticated, require
from shared.contracts.catalogue import HandlingMode
from shared.contracts.routing import CaseForwarded, CaseStatusChanged, CaseSubmitted
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
LOCALITY = r"^\d{6}$"
Reader = Annotated[Caller, Depends(authenticated)]
Clerk = Annotated[Caller, Depends(require(Role.WINDOW_CLERK))]
ROLE_OF_SIDE = {Side.ACCEPTING: Role.WINDOW_CLERK, Side.OWNING: Role.DEPARTMENT_OFFICER}


class CaseSubmission(BaseModel):
    """A case accepted at a window for another locality (the caller's locality accepts it)."""

    model_config = ConfigDict(extra="forbid")

    item_code: str = Field(min_length=1, max_length=32, examples=["YRD-SB-0001"])
    mode: HandlingMode
    owning_locality: str = Field(pattern=LOCALITY, examples=["341600"])
    applicant_id: str = Field(
        min_length=18, max_length=18, description="Resident identity number or unified social credit code."
    )
    material_hashes: list[str] = Field(default_factory=list, max_length=100)


class CaseView(BaseModel):
    """A case as routing holds it (the applicant masked)."""

    id: str
    item_code: str
    mode: str
    accepting_locality: str
    owning_locality: str
    applicant_masked: str
    status: str
    sequence: int
    waybill_numbers: list[str]

    @classmethod
    def of(cls, case: Case) -> CaseView:
        """The view of a domain case."""
        return cls(
            id=case.id,
            item_code=case.item_code,
            mode=case.mode,
            accepting_locality=case.accepting_locality,
            owning_locality=case.owning_locality,
            applicant_masked=case.applicant.masked,
            status=case.status.value,
            sequence=case.sequence,
            waybill_numbers=list(case.waybill_numbers),
        )


class Transition(BaseModel):
    """An action on a case, taken by the caller's locality."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(examples=list(TRANSITIONS))
    material_hashes: list[str] = Field(default_factory=list, max_length=100)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Submit a case")
async def submit_case(body: CaseSubmission, uow: Uow, ctx: Ctx, caller: Clerk) -> CaseView:
    if body.owning_locality not in ctx.localities:
        raise Problem(f"owning_locality {body.owning_locality} is not a registered locality",
                      status=422, slug="unknown-locality", title="Unknown locality")
    try:
        applicant = applicant_ref(body.applicant_id, ctx.settings.derived_key("applicant-id"))
    except InvalidIdentifier as exc:
        raise Problem(str(exc), status=422, slug="invalid-identifier", title="Invalid identifier") from exc
    async with uow:
        item = await KnownItemRepository(uow.session).get(body.item_code)
        if item is None or not item.published:
            raise Problem(f"item {body.item_code} is in no published list", status=422,
                          slug="item-not-published", title="Item not published")
        if body.mode not in item.modes:
            raise Problem(f"item {body.item_code} does not support mode {body.mode}", status=422,
                          slug="mode-not-supported", title="Mode not supported")
        item_area = item.area
    if body.owning_locality != caller.locality:
        authorization: AuthorizationClient = ctx.state["authorization"]
        answer = await authorization.may_accept(caller, body.owning_locality, body.item_code, item_area, body.mode)
        if not answer.allowed:
            raise Forbidden(answer.reason, slug="no-delegation", title="No delegation")
    async with uow:
        case = Case(
            id=str(uuid.uuid4()),
            item_code=body.item_code,
            mode=body.mode,
            accepting_locality=caller.locality,
            owning_locality=body.owning_locality,
            applicant=applicant,
        )
        await CaseRepository(uow.session).add(case)
        uow.publish(
            CaseSubmitted(
                case_id=case.id,
                item_code=case.item_code,
                mode=body.mode,
                accepting_locality=case.accepting_locality,
                owning_localities=[case.owning_locality],
                applicant_masked=applicant.masked,
                submitted_at=datetime.now(UTC),
            ),
            [case.accepting_locality, case.owning_locality],
        )
        await uow.commit()
    return CaseView.of(case)


@router.get("/{case_id}", summary="One case")
async def get_case(case_id: str, uow: Uow, caller: Reader) -> CaseView:
    async with uow:
        case = await CaseRepository(uow.session).get(case_id)
    if case is None or not case.side_of(caller.locality):
        raise NotFound(f"no case {case_id}")
    return CaseView.of(case)


@router.post("/{case_id}/transitions", summary="Move a case through its life cycle")
async def transition_case(case_id: str, body: Transition, uow: Uow, caller: Reader) -> CaseView:
    async with uow:
        cases = CaseRepository(uow.session)
        case = await cases.get_for_update(case_id)
        if case is None or not case.side_of(caller.locality):
            raise NotFound(f"no case {case_id}")
        if body.action in TRANSITIONS:
            needed = ROLE_OF_SIDE[TRANSITIONS[body.action][2]]
            if not caller.has(needed):
                raise InsufficientRole(f"{body.action} needs the role {needed.value}")
        try:
            moved = case.apply(body.action, caller.locality)
        except IllegalTransition as exc:
            raise Conflict(str(exc), slug="illegal-transition", title="Illegal transition",
                           allowed=exc.allowed) from exc
        await cases.update(moved)
        involved = [case.accepting_locality, case.owning_locality]
        uow.publish(
            CaseStatusChanged(
                case_id=case.id,
                from_status=case.status.value,
                to_status=moved.status.value,
                by_locality=caller.locality,
                sequence=moved.sequence,
            ),
            involved,
        )
        if body.action == "forward":
            uow.publish(
                CaseForwarded(
                    case_id=case.id,
                    accepting_locality=case.accepting_locality,
                    owning_locality=case.owning_locality,
                    material_hashes=body.material_hashes,
                ),
                involved,
            )
        await uow.commit()
    return CaseView.of(moved)
