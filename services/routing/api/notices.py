"""The window's own one-time notice (一次性告知) before acceptance, and its answer; every notice of a case.

When the accepting window finds materials missing or defective, it gives the applicant one notice listing
every one with the reason (its lines, or, when it names none, what the owners' business standards still
miss), under the delegated right 一次性告知权 ``one_time_notice``. The applicant comes back with them: the
window answers the notice line by line, adding the materials, and may then accept. An owner's notice is
its ``request_supplement`` (docs/routing.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.routing.api.cases import AnswerIn, NoticeLineIn
from services.routing.api.parties import ClerkIn
from services.routing.api.schemas import NoticeView
from services.routing.domain import CaseStatus, Material
from services.routing.domain.cases import CaseRuleBroken
from services.routing.domain.notices import Notice, answer, issue
from services.routing.domain.standard import shortfalls
from services.routing.store import CaseRepository, to_case
from services.routing.store_reference import KnownItemRepository
from services.routing.window import clerk_of, require_right, rule_problem
from shared import clock
from shared.api_types import location
from shared.auth import Caller, Role, authenticated, require
from shared.masking import mask_text
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

notices = APIRouter(prefix="/v1/cases", tags=["cases"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Clerk = Annotated[Caller, Depends(require(Role.WINDOW_CLERK))]


class WindowNoticeIn(BaseModel):
    """The window's one-time notice: its lines (none: what the owners' standards still miss)."""

    model_config = ConfigDict(extra="forbid")

    lines: list[NoticeLineIn] = Field(default_factory=list, max_length=100)
    clerk: ClerkIn | None = None


class NoticeAnswerIn(BaseModel):
    """The answer to the window's notice, line by line."""

    model_config = ConfigDict(extra="forbid")

    answers: list[AnswerIn] = Field(min_length=1, max_length=100)
    clerk: ClerkIn | None = None


class NoticeList(BaseModel):
    """Every one-time notice of a case, oldest first."""

    case_id: str
    notices: list[NoticeView]


async def _window_case(uow: UnitOfWork, case_id: str, caller: Caller):  # type: ignore[no-untyped-def]
    row = await CaseRepository(uow.session).row(case_id, for_update=True)
    if row is None or caller.locality not in (row.accepting_locality, *row.owners):
        raise NotFound(f"no case {case_id}")
    if caller.locality != row.accepting_locality:
        raise Forbidden("the window's one-time notice is the accepting window's; an owner asks by request_supplement")
    if row.status != CaseStatus.SUBMITTED.value:
        raise Conflict(f"the window's notice comes before acceptance; the case is {row.status}",
                       slug="not-at-the-window", title="Not at the window")
    return row


@notices.post("/{case_id}/notices", status_code=status.HTTP_201_CREATED, response_model=NoticeView,
              summary="The window's one-time notice of what is missing (一次性告知权)",
              responses={403: {"description": "not the accepting window, or one_time_notice is not delegated"}})
async def window_notice(case_id: str, body: WindowNoticeIn, uow: Uow, ctx: Ctx, caller: Clerk) -> JSONResponse:
    async with uow:
        row = await _window_case(uow, case_id, caller)
        case = to_case(row)
        await require_right(uow, ctx.state["authorization"], caller, case, "notify")
        lines = [line.model_dump() for line in body.lines]
        if not lines:  # what the owners' standards still miss
            item = await KnownItemRepository(uow.session).get(case.item_code)
            standards = (item.materials_by_locality or {}) if item else {}
            lines = [{"material": s.name, "reason": s.reason} for owner in case.owners
                     for s in shortfalls(owner, standards.get(owner, []), [m.to_dict() for m in case.materials])]
        lines = [{**x, "reason": mask_text(str(x["reason"]))} for x in lines]
        try:
            notice = issue([Notice.of(n) for n in row.notices or []], "window", caller.locality, lines,
                           clock.current().now().isoformat(), clerk_of(caller, body.clerk.model_dump() if body.clerk
                                                                       else None))
        except CaseRuleBroken as exc:
            raise rule_problem(exc) from exc
        row.notices = [*(row.notices or []), notice.as_dict()]
        await uow.commit()
    view = NoticeView.model_validate(notice.as_dict())
    return JSONResponse(view.model_dump(mode="json"), status_code=201,
                        headers=location(f"/v1/cases/{case_id}/notices/{notice.number}"))


@notices.post("/{case_id}/notices/{number}/answers", response_model=NoticeView,
              summary="Answer the window's notice line by line, adding the materials")
async def answer_window_notice(case_id: str, number: int, body: NoticeAnswerIn, uow: Uow, ctx: Ctx,
                               caller: Clerk) -> NoticeView:
    async with uow:
        row = await _window_case(uow, case_id, caller)
        case = to_case(row)
        await require_right(uow, ctx.state["authorization"], caller, case, "supplement")
        known = [Notice.of(n) for n in row.notices or []]
        notice = next((n for n in known if n.number == number and n.kind == "window"), None)
        if notice is None:
            raise NotFound(f"case {case_id} has no window notice {number}")
        try:
            added = [Material.from_dict({**m.model_dump(), "supplement": number}) for a in body.answers
                     for m in a.added]
            answered = answer(notice, [a.model_dump() for a in body.answers], added,
                              clock.current().now().isoformat())
        except CaseRuleBroken as exc:
            raise rule_problem(exc) from exc
        except ValueError as exc:
            raise Problem(str(exc), status=422, slug="invalid-material", title="Invalid material") from exc
        row.notices = [answered.as_dict() if n.number == number else n.as_dict() for n in known]
        row.materials = [*row.materials, *(m.to_dict() for m in added)]
        await uow.commit()
    return NoticeView.model_validate(answered.as_dict())


@notices.get("/{case_id}/notices", summary="Every one-time notice of the case and its answer")
async def list_notices(case_id: str, uow: Uow, caller: Annotated[Caller, Depends(authenticated)]) -> NoticeList:
    async with uow:
        row = await CaseRepository(uow.session).row(case_id)
        if row is None or caller.locality not in (row.accepting_locality, *row.owners):
            raise NotFound(f"no case {case_id}")
        return NoticeList(case_id=case_id, notices=[NoticeView.model_validate(n) for n in row.notices or []])
