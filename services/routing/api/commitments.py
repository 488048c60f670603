"""Commitments in place of proofs (告知承诺制, 国办发〔2020〕42号): the owner's verification tasks, a case's
commitments, and the owner's finding (services/routing/commitments/)."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from services.routing.api.parties import ClerkIn
from services.routing.commitments import service
from services.routing.commitments.store import CommitmentRepository, CommitmentRow
from services.routing.domain import CaseStatus
from services.routing.window import today
from shared.api_types import CursorPage
from shared.auth import Caller, Role, authenticated, require
from shared.problems import Problem
from shared.service import get_uow
from shared.uow import UnitOfWork

commitments = APIRouter(prefix="/v1/commitments", tags=["commitments"])
case_commitments = APIRouter(prefix="/v1/cases", tags=["commitments"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Officer = Annotated[Caller, Depends(require(Role.DEPARTMENT_OFFICER))]
CommitmentStatus = Literal["pending", "found_true", "found_false"]


class CommitmentIn(BaseModel):
    """A written commitment in place of materials the owner's standard lets it replace (告知承诺制)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, description=(
        "The commitment's exact text, as the applicant signed it: the text the department publishes for the "
        "materials it replaces (whitespace aside)."))
    replaces: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=20, description="The names of the materials it stands in for.")


class CommitmentView(BaseModel):
    """A commitment, as one owner verifies it."""

    id: str
    case_id: str
    item_code: str
    owner: str
    accepting_locality: str
    text: str = Field(description="The commitment's exact text.")
    replaces: list[str]
    verify_days: int = Field(description="Working days the owner has to verify it after acceptance.")
    status: CommitmentStatus
    due_on: date | None = Field(description="The verification's due day (statutory calendar); null before acceptance.")
    overdue: bool
    reason: str = Field(description="Why it was found false (personal numbers masked); empty otherwise.")
    verified_on: date | None

    @classmethod
    def of(cls, row: CommitmentRow) -> CommitmentView:
        """The view of a row."""
        return cls(id=row.id, case_id=row.case_id, item_code=row.item_code, owner=row.owner,
                   accepting_locality=row.accepting_locality, text=row.text, replaces=list(row.replaces),
                   verify_days=row.verify_days, status=row.status,  # type: ignore[arg-type]
                   due_on=row.due_on, overdue=bool(row.status == "pending" and row.due_on and today() > row.due_on),
                   reason=row.reason or "", verified_on=row.verified_on)


class CommitmentPage(CursorPage):
    """A page of the caller's locality's verification tasks, by due date."""

    commitments: list[CommitmentView]


class VerificationIn(BaseModel):
    """The owner's finding on a commitment."""

    model_config = ConfigDict(extra="forbid")

    found: StrictBool = Field(description="true: the commitment is true; false: found false (revokes the result).")
    reason: str = Field(default="", max_length=1000, description="Why it is false (required then).")
    clerk: ClerkIn | None = None


class VerificationView(BaseModel):
    """The commitment after the finding, and where its case stands."""

    commitment: CommitmentView
    case_status: CaseStatus
    case_reason: str


def _cursor(row: CommitmentRow) -> str:
    return base64.urlsafe_b64encode(json.dumps([row.due_on.isoformat() if row.due_on else "", row.id]).encode()
                                    ).decode()


def _after(cursor: str) -> tuple[str, str]:
    try:
        due, last = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        date.fromisoformat(due)
        return str(due), str(last)
    except (ValueError, TypeError) as exc:
        raise Problem("cursor is not valid", status=422, slug="validation", title="Invalid request",
                      errors=[{"field": "query.cursor", "message": "not a cursor of this list"}]) from exc


@commitments.get("", summary="The caller's locality's commitment verification tasks, by due date")
async def list_commitments(
    uow: Uow, caller: Annotated[Caller, Depends(authenticated)],
    status: Annotated[CommitmentStatus | None, Query(description="Only those in this status.")] = None,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CommitmentPage:
    after = _after(cursor) if cursor else None
    async with uow:
        rows = await CommitmentRepository(uow.session).tasks(caller.locality, status, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return CommitmentPage(commitments=[CommitmentView.of(r) for r in rows],
                          next_cursor=_cursor(rows[-1]) if more else None)


@case_commitments.get("/{case_id}/commitments", summary="A case's commitments in place of proofs")
async def list_case_commitments(case_id: str, uow: Uow,
                                caller: Annotated[Caller, Depends(authenticated)]) -> list[CommitmentView]:
    async with uow:
        return [CommitmentView.of(r) for r in await service.of_case(uow, caller, case_id)]


@commitments.post("/{commitment_id}/verification", summary="Record the owner's finding on a commitment",
                  responses={409: {"description": "verified already, or the case is not accepted yet"}})
async def verify_commitment(commitment_id: str, body: VerificationIn, uow: Uow, caller: Officer) -> VerificationView:
    async with uow:
        row, case_row = await service.verify(uow, caller, commitment_id, body.found, body.reason,
                                             body.clerk.model_dump() if body.clerk else None)
        view = VerificationView(commitment=CommitmentView.of(row), case_status=CaseStatus(case_row.status),
                                case_reason=case_row.reason or "")
        await uow.commit()
        return view


routers = [commitments, case_commitments]
