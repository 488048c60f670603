"""The applicant and the agent of a case: their submitted form, their masked view, and their unmasking.

Every case answer shows them masked (``applicant``, ``agent`` of :class:`CaseView`). The whole fields are
sealed at rest under routing's own key ``applicant-seal`` and opened only for a party of the case whose
client holds a role that handles it (the window clerk, the department officer), each opening written
as an audit line (table ``personal_data_reads``, and routing's log) before the answer goes out.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from services.routing.domain.materials import clean_name
from services.routing.store import CaseRepository, PersonalDataReadRow
from services.routing.window import PARTIES_KEY, parties_context
from shared.api_types import Timestamp
from shared.auth import Caller, InsufficientRole, Role, authenticated
from shared.problems import NotFound, Problem
from shared.sealing import SealError, open_json
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.routing")
parties = APIRouter(prefix="/v1/cases", tags=["cases"])
IdKind = Literal["resident_id", "hk_macao_permit", "taiwan_permit", "passport", "foreign_permanent_residence"]
UNMASKING_ROLES = (Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER)


class ClerkIn(BaseModel):
    """The person at the window or desk who takes the action, as the locality system asserts them: recorded
    on the case's timeline and, at acceptance, signed into the acceptance attestation."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[\w.@:-]+$", examples=["SZ-0427"])
    name: str = Field(min_length=1, max_length=100, examples=["王晓明"])

    @model_validator(mode="after")
    def _visible(self) -> ClerkIn:
        self.name = clean_name(self.name, "the clerk's name")
        return self


class PersonIn(BaseModel):
    """A person applying."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["person"]
    name: str = Field(min_length=1, max_length=100)
    id_kind: IdKind = "resident_id"
    id_number: str = Field(min_length=5, max_length=20, description="For a resident_id: the case's applicant_id.")
    phone: str = Field(min_length=7, max_length=20)
    address: str = Field(default="", max_length=200)


class EnterpriseIn(BaseModel):
    """An enterprise applying."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["enterprise"]
    name: str = Field(min_length=1, max_length=200)
    uscc: str = Field(min_length=18, max_length=18, description="The case's applicant_id.")
    legal_representative: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=7, max_length=20)
    address: str = Field(default="", max_length=200)


class AgentIn(BaseModel):
    """Someone acting for the applicant (代办人); the authorisation letter is one of the materials, by name."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    id_kind: IdKind = "resident_id"
    id_number: str = Field(min_length=5, max_length=20)
    phone: str = Field(min_length=7, max_length=20)
    authorisation_letter: str = Field(min_length=1, max_length=200, examples=["授权委托书"])


ApplicantIn = Annotated[PersonIn | EnterpriseIn, Field(discriminator="kind")]


class ApplicantView(BaseModel):
    """The applicant (masked in case answers; whole when unmasked)."""

    kind: Literal["person", "enterprise"]
    name: str
    id_kind: str
    id_number: str
    phone: str
    address: str
    legal_representative: str


class AgentView(BaseModel):
    """The agent (masked in case answers; whole when unmasked)."""

    name: str
    id_kind: str
    id_number: str
    phone: str
    authorisation_letter: str


class PartiesView(BaseModel):
    """A case's applicant and agent, unmasked for the case's parties."""

    case_id: str
    applicant: ApplicantView | None = Field(description="Null when the case names its applicant by identifier only.")
    agent: AgentView | None


class PersonalDataRead(BaseModel):
    """One unmasking: who, which fields, when."""

    locality: str
    client_id: str
    fields: list[str]
    at: Timestamp


Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]


@parties.get("/{case_id}/parties", summary="The applicant and the agent, unmasked (audited)",
             responses={403: {"description": "a party without the window clerk's or department officer's role"}})
async def unmask(case_id: str, uow: Uow, ctx: Ctx, caller: Reader) -> PartiesView:
    async with uow:
        row = await CaseRepository(uow.session).row(case_id)
        if row is None or caller.locality not in (row.accepting_locality, *row.owners):
            raise NotFound(f"no case {case_id}")
        if not any(caller.has(role) for role in UNMASKING_ROLES):
            raise InsufficientRole("the applicant's personal data opens for a window clerk or department officer")
        if row.parties_sealed is None:  # a case that names its applicant by the identifier alone
            return PartiesView(case_id=case_id, applicant=None, agent=None)
        try:
            opened = open_json(ctx.keys.keyset(PARTIES_KEY), row.parties_sealed, parties_context(case_id))
        except SealError as exc:
            log.error("a case's sealed parties do not open", extra={"case_id": case_id})
            raise Problem("the applicant's data cannot be opened", status=500) from exc
        fields = sorted(f"{who}.{name}" for who, values in opened.items() for name in values)
        uow.session.add(PersonalDataReadRow(case_id=case_id, locality=caller.locality, client_id=caller.client_id,
                                            fields=fields, at=datetime.now(UTC)))
        await uow.commit()  # the audit line is written before the data goes out
    log.info("personal data unmasked", extra={"audit": "case.parties.unmasked", "case_id": case_id,
                                              "locality": caller.locality, "client_id": caller.client_id})
    return PartiesView(case_id=case_id, applicant=ApplicantView.model_validate(opened["applicant"]),
                       agent=AgentView.model_validate(opened["agent"]) if opened.get("agent") else None)


@parties.get("/{case_id}/parties/reads", summary="Who unmasked the case's applicant and agent, when")
async def reads(case_id: str, uow: Uow, caller: Reader) -> list[PersonalDataRead]:
    async with uow:
        row = await CaseRepository(uow.session).row(case_id)
        if row is None or caller.locality not in (row.accepting_locality, *row.owners):
            raise NotFound(f"no case {case_id}")
        found = await uow.session.scalars(select(PersonalDataReadRow).where(PersonalDataReadRow.case_id == case_id)
                                          .order_by(PersonalDataReadRow.id))
        return [PersonalDataRead(locality=r.locality, client_id=r.client_id, fields=r.fields, at=r.at)
                for r in found]
