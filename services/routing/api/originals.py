"""The window's check of originals (原件核验), per material: who checked, whether the original matches.

Only the accepting window records it (``window_clerk`` of the accepting locality), and only while the
materials are at the window (before the case is forwarded, or while a supplement is requested); on
behalf of another locality it needs the delegated right 原件核验权 ``check_originals`` (403 otherwise).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from services.routing.api.parties import ClerkIn
from services.routing.api.schemas import OriginalsCheckView
from services.routing.domain import CaseStatus
from services.routing.domain.standard import check_of_originals
from services.routing.store import CaseRepository, to_case
from services.routing.window import clerk_of, require_right
from shared.auth import Caller, Role, authenticated, require
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

originals = APIRouter(prefix="/v1/cases", tags=["cases"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
AT_THE_WINDOW = frozenset({CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.SUPPLEMENT_REQUESTED})


class OriginalCheckIn(BaseModel):
    """One material's original as the clerk checked it against the copy or scan."""

    model_config = ConfigDict(extra="forbid")

    material: str = Field(min_length=1, max_length=200, description="The material's name, as declared.")
    matches: bool = Field(description="Whether the original matches what was handed in.")
    note: str = Field(default="", max_length=500)


class OriginalsCheckIn(BaseModel):
    """The window's check of originals: one line per material checked, and who checked."""

    model_config = ConfigDict(extra="forbid")

    checks: list[OriginalCheckIn] = Field(min_length=1, max_length=100)
    clerk: ClerkIn | None = None


class OriginalsView(BaseModel):
    """Every check of originals recorded on a case, oldest first."""

    case_id: str
    checks: list[OriginalsCheckView]


@originals.post("/{case_id}/originals", summary="Record the window's check of originals (原件核验权)",
                responses={403: {"description": "not the accepting window, or the right check_originals is not "
                                                "delegated"}, 409: {"description": "the materials left the window"}})
async def record_originals(case_id: str, body: OriginalsCheckIn, uow: Uow, ctx: Ctx,
                           caller: Annotated[Caller, Depends(require(Role.WINDOW_CLERK))]) -> OriginalsView:
    async with uow:
        repo = CaseRepository(uow.session)
        row = await repo.row(case_id, for_update=True)
        if row is None or caller.locality not in (row.accepting_locality, *row.owners):
            raise NotFound(f"no case {case_id}")
        if caller.locality != row.accepting_locality:
            raise Forbidden("only the accepting window checks the originals it was handed")
        case = to_case(row)
        if case.status not in AT_THE_WINDOW:
            raise Conflict(f"the materials are no longer at the window: the case is {case.status.value}",
                           slug="not-at-the-window", title="Not at the window")
        unknown = check_of_originals([m.name for m in case.materials], [c.model_dump() for c in body.checks])
        if unknown:
            raise Problem(f"not among the case's materials: {', '.join(unknown)}", status=422,
                          slug="unknown-material", title="Unknown material")
        await require_right(uow, ctx.state["authorization"], caller, case, "check_originals")
        by = clerk_of(caller, body.clerk.model_dump() if body.clerk else None)
        at = datetime.now(UTC).isoformat()
        row.originals_checks = [*(row.originals_checks or []), *(
            {"material": c.material, "matches": c.matches, "note": c.note, "by": by, "at": at} for c in body.checks)]
        await uow.commit()
        return OriginalsView(case_id=case_id, checks=[OriginalsCheckView.model_validate(c)
                                                      for c in row.originals_checks])


@originals.get("/{case_id}/originals", summary="The window's checks of originals")
async def list_originals(case_id: str, uow: Uow,
                         caller: Annotated[Caller, Depends(authenticated)]) -> OriginalsView:
    async with uow:
        row = await CaseRepository(uow.session).row(case_id)
        if row is None or caller.locality not in (row.accepting_locality, *row.owners):
            raise NotFound(f"no case {case_id}")
        return OriginalsView(case_id=case_id, checks=[OriginalsCheckView.model_validate(c)
                                                      for c in row.originals_checks or []])
