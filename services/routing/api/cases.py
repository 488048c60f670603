"""REST API of the routing service: cases, their life cycle, deadlines, calendar and figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.exc import IntegrityError

from services.routing.api.calendar import calendar
from services.routing.api.commitments import CommitmentIn
from services.routing.api.originals import originals
from services.routing.api.parties import AgentIn, ApplicantIn, ClerkIn, parties
from services.routing.api.schemas import CaseDetail, CasePage, CaseView, Figures, LocalFiguresView, ScanCounts, Step
from services.routing.deadlines import scan_deadlines
from services.routing.domain import TRANSITIONS, CaseStatus, Material, applicant_digest
from services.routing.domain.materials import clean_name
from services.routing.figures import figures
from services.routing.service import (
    APPLICANT_KEY,
    REASON_KEY,
    case_view,
    idempotent,
    original_reason,
    request_hash,
    submit,
    today,
    transition,
)
from services.routing.store import (
    CaseRepository,
    LocalStatisticsRow,
    decode_cursor,
    decode_feed_cursor,
    encode_cursor,
    encode_feed_cursor,
    filters_fingerprint,
)
from shared.api_types import TimestampIn, location
from shared.auth import Caller, Role, authenticated, require
from shared.contracts.catalogue import HandlingMode
from shared.keys import KeySet
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

cases = APIRouter(prefix="/v1/cases", tags=["cases"])
stats = APIRouter(prefix="/v1/statistics", tags=["statistics"])
deadlines = APIRouter(prefix="/v1/deadlines", tags=["deadlines"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]
Clerk = Annotated[Caller, Depends(require(Role.WINDOW_CLERK))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="Retries with the same key get the first response.")]
PLACE = r"^[1-8]\d{5}$"
Digest = Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{64}$"), AfterValidator(str.lower)]
"""A SHA-256 or SM3 digest: 64 hexadecimal digits in either case, kept in lower case (one rule everywhere)."""
Places = list[Annotated[str, Field(pattern=PLACE)]]


class Ownership(BaseModel):
    """The applicant's places (GB/T 2260 codes) that decide which locality owns a case."""

    model_config = ConfigDict(extra="forbid")

    household_registration_place: Places = Field(default_factory=list, max_length=8)
    insured_place: Places = Field(default_factory=list, max_length=8)
    enterprise_registration_place: Places = Field(default_factory=list, max_length=8)
    property_location: Places = Field(default_factory=list, max_length=8)


class LicenceRefIn(BaseModel):
    """An electronic licence the applicant already holds (互认): its issuing locality and number."""

    model_config = ConfigDict(extra="forbid")

    issuing_locality: str = Field(pattern=r"^\d{6}$", examples=["341600"])
    number: str = Field(pattern=r"^[0-9A-Za-z\-./]{1,64}$")
    signature: str | None = Field(default=None, min_length=1, max_length=4000,
                                  description="The signature on the holder's copy, when the window has it.")


class MaterialIn(BaseModel):
    """A material handed in: electronic ones carry the SHA-256 of their file, and may carry its SM3 too.

    Names are NFC-normalised and must hold visible characters; digests are hexadecimal in either case,
    kept in lower case (services/routing/domain/materials.py)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    form: Literal["original", "copy", "original_and_copy", "electronic", "paper"] = Field(description=(
        "原件 original, 复印件 copy, 原件及复印件 original_and_copy, 电子件 electronic "
        "(shared/contracts/catalogue.py); paper: the older word for a paper material of unstated form (a copy)."))
    count: int = Field(default=1, ge=1, le=99)
    sha256: Digest | None = Field(default=None, description="SHA-256 of the file; required when electronic.")
    sm3: Digest | None = Field(default=None,
                               description="SM3 digest of the file (national suite): attested, and checked at upload.")
    licence: LicenceRefIn | None = Field(default=None, description=(
        "An electronic licence given instead of a scan (form electronic, no file): verified with its issuing "
        "locality before the case is accepted (docs/licences.md)."))

    @model_validator(mode="after")
    def _rules(self) -> MaterialIn:
        if self.licence is not None:
            if self.form != "electronic":
                raise ValueError("a material given as a licence is electronic (form electronic)")
            self.name = clean_name(self.name)  # its file's hash comes from the verified licence
            return self
        material = Material(self.name, self.form, self.sha256, self.sm3, self.count)  # the domain's rules, as 422s
        self.name = material.name
        return self


class CaseSubmission(BaseModel):
    """A case accepted at the caller's window for the locality that owns it."""

    model_config = ConfigDict(extra="forbid")

    item_code: str = Field(min_length=1, max_length=32, examples=["YRD-SB-0001"])
    mode: HandlingMode
    applicant_id: str = Field(min_length=18, max_length=18,
                              description="Resident identity number (GB 11643) or unified social credit code "
                                          "(GB 32100); kept only as a keyed hash and a masked form.")
    ownership: Ownership
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)
    clerk: ClerkIn | None = None
    applicant: ApplicantIn | None = Field(default=None, description=(
        "The applicant's name, document, phone and address (sealed at rest, answered masked)."))
    agent: AgentIn | None = Field(default=None, description="Someone acting for the applicant (代办人).")
    commitments: list[CommitmentIn] = Field(default_factory=list, max_length=20, description=(
        "Written commitments in place of materials the owner's business standard lets a commitment replace "
        "(告知承诺制): each counts as those materials given at acceptance; the owner verifies it later."))


class NoticeLineIn(BaseModel):
    """One line of a one-time notice: a missing or defective material, and why."""

    model_config = ConfigDict(extra="forbid")

    material: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=500, examples=["复印件不清晰 / the copy is illegible"])


class AnswerIn(BaseModel):
    """A supplement's answer to one line of the notice, with the materials it adds."""

    model_config = ConfigDict(extra="forbid")

    material: str = Field(min_length=1, max_length=200, description="The notice line it answers.")
    answer: str = Field(default="已补正", max_length=500)
    added: list[MaterialIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _no_licence(self) -> AnswerIn:
        if any(m.licence is not None for m in self.added):
            raise ValueError("a licence is given as a material at submission; a supplement adds files")
        return self


Action = Literal[tuple(TRANSITIONS)]  # type: ignore[valid-type]


class ResultLicenceIn(BaseModel):
    """The electronic licence an owner issues as a case's result (its type name comes from the item)."""

    model_config = ConfigDict(extra="forbid")

    type_code: str = Field(pattern=r"^[0-9A-Za-z\-.]{1,32}$")
    number: str = Field(pattern=r"^[0-9A-Za-z\-./]{1,64}$")
    holder_kind: Literal["person", "enterprise"]
    holder_name: str = Field(min_length=1, max_length=200)
    holder_id: str = Field(min_length=6, max_length=32)
    issuing_authority: str = Field(min_length=1, max_length=200)
    issuing_authority_code: str = Field(default="", max_length=32)
    valid_from: date
    valid_until: date | None = None
    file_sha256: Digest


class Transition(BaseModel):
    """An action on a case, taken by the caller's locality."""

    model_config = ConfigDict(extra="forbid")

    action: Action = Field(examples=list(TRANSITIONS))  # type: ignore[valid-type]
    reason: str = Field(default="", max_length=1000)
    handover_reason: str = Field(default="", max_length=1000, description=(
        "Why posted materials are received, or a result delivered, outside the post (the materials' waybill not "
        "delivered yet; the result's waybill returned or lost). Personal numbers are masked."))
    material_hashes: list[Digest] = Field(default_factory=list, max_length=100)
    clerk: ClerkIn | None = None
    notice: list[NoticeLineIn] = Field(default_factory=list, max_length=100, description=(
        "request_supplement: the one-time notice, every missing or defective material with the reason (required)."))
    answers: list[AnswerIn] = Field(default_factory=list, max_length=100, description=(
        "supplement: the answer to each line of the open notice, with the materials it adds."))
    licence: ResultLicenceIn | None = Field(default=None, description=(
        "issue_result of an approved case: the result is an electronic licence, of one of the item's licence "
        "types, signed by the owner's locality key (docs/licences.md)."))

    @model_validator(mode="after")
    def _licence_on_result(self) -> Transition:
        if self.licence is not None and self.action != "issue_result":
            raise ValueError("a licence is given with issue_result only")
        return self


def _respond(result: tuple[int, dict[str, Any]]) -> JSONResponse:
    """A case answered (first time or replayed for an Idempotency-Key) as its model; 201 says where it is."""
    code, body = result
    view = CaseView.model_validate(body)
    return JSONResponse(view.model_dump(mode="json"), status_code=code,
                        headers=location(f"/v1/cases/{view.id}") if code == status.HTTP_201_CREATED else None)


@cases.post("", status_code=status.HTTP_201_CREATED, summary="Submit a case (accepted at the caller's window)",
            response_model=CaseView, responses={403: {"description": "no active delegation, with its reason"}})
async def submit_case(body: CaseSubmission, uow: Uow, ctx: Ctx, caller: Clerk,
                      idempotency_key: IdempotencyKey = None) -> JSONResponse:
    data = body.model_dump()

    async def work() -> tuple[int, dict[str, Any]]:
        return await submit(uow, caller, data, ctx.localities.codes, ctx.keys.current(APPLICANT_KEY),
                            ctx.state["authorization"], ctx.state["catalogue"])

    async with uow:
        return _respond(await idempotent(uow, caller, idempotency_key, request_hash("submit", data), work))


@cases.get("", summary="The cases the caller's locality accepted or handles", response_model=CasePage)
async def list_cases(
    uow: Uow, ctx: Ctx, caller: Reader,
    locality: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    overdue: bool | None = None,
    item: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    applicant_id: Annotated[str | None, Query(min_length=18, max_length=18,
                                              description="Only this applicant's cases (matched by keyed hash "
                                                          "under every version of the key).")] = None,
    updated_since: Annotated[TimestampIn | None, Query(
        description="Change feed: the cases changed at or after this time, in the order their changes "
                    "committed; follow `next_cursor` (always given) to page and, later, to poll.")] = None,
) -> CasePage:
    digests = None if applicant_id is None else [
        applicant_digest(applicant_id, k.secret) for k in ctx.keys.keyset(APPLICANT_KEY).versions]
    if locality is not None and locality != caller.locality:
        raise Forbidden(f"a client of {caller.locality} sees only its own locality's cases")
    if updated_since is not None or (cursor or "").startswith(_FEED_CURSOR_START):
        return await _change_feed(uow, caller, updated_since, cursor, limit)
    filters = filters_fingerprint(status=status_, overdue=overdue, item=item, applicant=applicant_id)
    try:
        after = decode_cursor(cursor, filters) if cursor else None
    except ValueError as exc:
        raise Problem("cursor is not valid", status=422, slug="validation", title="Invalid request",
                      errors=[{"field": "query.cursor", "message": str(exc)}]) from exc
    async with uow:
        rows = await CaseRepository(uow.session).search(caller.locality, status_, overdue, item, today(), after,
                                                        limit + 1, applicant_digests=digests)
    more = len(rows) > limit
    rows = rows[:limit]
    return CasePage.model_validate({"cases": [case_view(r) for r in rows], "has_more": more,
                                    "next_cursor": encode_cursor(rows[-1], filters) if more else None})


_FEED_CURSOR_START = "WyJmZWVkIi"
"""How every change-feed cursor begins (base64 of ``["feed",``)."""


def _invalid_cursor(message: str) -> Problem:
    return Problem("cursor is not valid", status=422, slug="validation", title="Invalid request",
                   errors=[{"field": "query.cursor", "message": message}])


async def _change_feed(uow: UnitOfWork, caller: Caller, since: datetime | None, cursor: str | None,
                       limit: int) -> CasePage:
    """A page of the change feed: each case changed since a time once, in commit order."""
    after: tuple[int, str] | None = None
    if cursor:
        try:
            started, seq, case_id = decode_feed_cursor(cursor)
        except ValueError as exc:
            raise _invalid_cursor(str(exc)) from exc
        if since is not None and since.astimezone(UTC) != started.astimezone(UTC):
            raise _invalid_cursor("the cursor belongs to another updated_since")
        since, after = started, (seq, case_id)
    if since is None:
        raise _invalid_cursor("updated_since is required")
    async with uow:
        rows = await CaseRepository(uow.session).changed_since(caller.locality, since, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_feed_cursor(since, rows[-1]) if rows else (cursor or encode_feed_cursor(since, None))
    return CasePage.model_validate({"cases": [case_view(r) for r in rows], "has_more": more,
                                    "next_cursor": next_cursor})


@cases.get("/{case_id}", summary="One case with its timeline", response_model_exclude_unset=True)
async def get_case(case_id: str, uow: Uow, ctx: Ctx, caller: Reader) -> CaseDetail:
    async with uow:
        repo = CaseRepository(uow.session)
        row = await repo.row(case_id)
        if row is None or caller.locality not in (row.accepting_locality, *row.owners):
            raise NotFound(f"no case {case_id}")
        steps = await repo.timeline(case_id)
    reasons = ctx.keys.keyset(REASON_KEY)
    return CaseDetail.model_validate({**case_view(row), "timeline": [
        Step.model_validate({"sequence": s.sequence, "at": s.at, "action": s.action, "from": s.from_status,
                             "to": s.to_status, "by": s.by_locality,
                             "detail": _party_detail(reasons, case_id, s.sequence, s.detail)})
        for s in steps]})


def _party_detail(reasons: KeySet, case_id: str, sequence: int, detail: dict[str, Any]) -> dict[str, Any]:
    """A step's detail for a party of the case: the original reason opened, the sealed form left out."""
    shown = {k: v for k, v in detail.items() if k != "reason_sealed"}
    original = original_reason(reasons, case_id, sequence, detail)
    if original is not None:
        shown["reason_original"] = original
    return shown


@cases.post("/{case_id}/transitions", summary="Move a case through its life cycle", response_model=CaseView,
            responses={409: {"description": "not allowed now (`allowed` lists the caller's actions that are, `turn` "
                                            "whose turn it is), the materials received differ or are not delivered, "
                                            "the result's post was lost, or files are missing"}})
async def transition_case(case_id: str, body: Transition, uow: Uow, ctx: Ctx, caller: Reader,
                          idempotency_key: IdempotencyKey = None) -> JSONResponse:
    detail = body.model_dump(exclude={"action"})

    async def work() -> tuple[int, dict[str, Any]]:
        return await transition(uow, caller, case_id, body.action, caller.locality, detail,
                                ctx.state["calendar"], ctx.state["authorization"])

    async with uow:
        fingerprint = request_hash("transition", case_id, body.model_dump())
        return _respond(await idempotent(uow, caller, idempotency_key, fingerprint, work))


# --------------------------------------------------------------------------- deadlines


Keeper = Annotated[Caller, Depends(require(Role.OPERATOR, Role.MAINTAINER))]


@deadlines.post("/scan", summary="Look for cases due soon or overdue now (also done periodically)")
async def scan(uow: Uow, ctx: Ctx, _caller: Keeper) -> ScanCounts:
    async with uow:
        counts = await scan_deadlines(uow, ctx.state["calendar"].calendar, today())
        await uow.commit()
    return ScanCounts(**counts)


# --------------------------------------------------------------------------- statistics


class LocalFigures(BaseModel):
    """A locality's own figures for its local-only cases of an item, for comparison."""

    model_config = ConfigDict(extra="forbid")

    item_code: str = Field(min_length=1, max_length=32)
    period: str = Field(pattern=r"^20\d{2}(-(0[1-9]|1[0-2]|Q[1-4]))?$", examples=["2026-Q3", "2026-07", "2026"])
    cases: int = Field(ge=0, le=100_000_000, strict=True)  # strict: true/false are no figures
    median_working_days: float = Field(ge=0, le=10_000, strict=True)
    on_time_rate: float = Field(ge=0, le=1, strict=True)


@stats.get("", summary="Per item: counts by status, median working days, on-time rate (and local-only)")
async def get_statistics(uow: Uow, ctx: Ctx, caller: Reader,
                         item: Annotated[str | None, Query(max_length=32)] = None) -> Figures:
    async with uow:
        return Figures.model_validate(await figures(uow, caller.locality, item, ctx.state["calendar"].calendar))


@stats.put("/local", summary="Report the caller's locality's local-only figures for an item")
async def put_local(body: LocalFigures, uow: Uow,
                    caller: Annotated[Caller, Depends(require(Role.SUPERVISOR, Role.OPERATOR))]) -> LocalFiguresView:
    for attempt in (1, 2):  # two reports racing on one key: the second becomes an update
        async with uow:
            row = await uow.session.get(LocalStatisticsRow, (caller.locality, body.item_code, body.period))
            if row is None:
                uow.session.add(LocalStatisticsRow(locality=caller.locality, reported_at=datetime.now(UTC),
                                                   **body.model_dump()))
            else:
                row.cases, row.median_working_days, row.on_time_rate = body.cases, body.median_working_days, \
                    body.on_time_rate
                row.reported_at = datetime.now(UTC)
            try:
                await uow.commit()
                break
            except IntegrityError:
                if attempt == 2:
                    raise Conflict("another report of the same figures is being written; retry") from None
    return LocalFiguresView(locality=caller.locality, **body.model_dump())


routers = [cases, parties, originals, calendar, deadlines, stats]
