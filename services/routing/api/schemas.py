"""The response models of routing's REST API: what a locality system reads about its cases.

The service layer answers with plain values (``case_view``); the routes validate them into these
models, so that what is sent is what the OpenAPI document declares. Times are
:data:`shared.api_types.Timestamp` (RFC 3339 with an offset), dates are dates.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from services.routing.domain import CaseStatus
from shared.api_types import CursorPage, Timestamp
from shared.contracts.catalogue import HandlingMode

LOCALITY = Field(pattern=r"^\d{6}$", examples=["320505"])


class MaterialLicenceView(BaseModel):
    """The electronic licence a material was given as, and its verification at submission."""

    issuing_locality: str
    number: str
    identifier: str
    licence_id: str
    type_code: str
    type_name: str
    holder_masked: str
    valid_until: str | None
    verified: bool
    verified_at: str
    verified_by: str = Field(description="The locality whose window asked the issuing locality.")


class MaterialView(BaseModel):
    """A material handed in at the window."""

    name: str
    form: Literal["original", "copy", "original_and_copy", "electronic", "paper"] = Field(
        description="shared/contracts/catalogue.py's vocabulary (paper: the older word, a copy).")
    sha256: str | None = Field(description="SHA-256 of an electronic material's file; null for paper.")
    count: int = 1
    supplement: int = Field(default=0, description="0: handed in at submission; n: added by the n-th supplement.")
    licence: MaterialLicenceView | None = Field(default=None, description=(
        "An electronic licence given instead of a scan, verified with its issuing locality (docs/licences.md)."))


class MaskedApplicant(BaseModel):
    """The applicant as every answer shows them: a person's name, numbers, phone and address masked."""

    kind: Literal["person", "enterprise"]
    name: str = Field(examples=["王**"])
    id_kind: str
    id_number: str
    phone: str = Field(examples=["138****5678"])
    address: str
    legal_representative: str


class MaskedAgent(BaseModel):
    """The agent, masked; the authorisation letter named (one of the materials)."""

    name: str
    id_kind: str
    id_number: str
    phone: str
    authorisation_letter: str


class DeliveryExceptionView(BaseModel):
    """The result's post came back or was lost; a new post or a hand-over with a reason comes first."""

    waybill_number: str
    waybill_status: Literal["returned", "exception"]
    reason: str = Field(description="The carrier's reason, personal numbers masked.")


class CaseView(BaseModel):
    """A case as routing answers about it: its parties, status, deadline; the applicant masked."""

    id: str = Field(description="The case id (UUID).")
    item_code: str = Field(examples=["YRD-SB-0001"])
    mode: HandlingMode
    accepting_locality: str = LOCALITY
    owning_locality: str = Field(description="The (lead) owner.", examples=["341600"])
    owners: list[str] = Field(description="Every owning locality (several in joint handling).")
    parts: dict[str, CaseStatus] = Field(description="Joint handling: each owner's part and where it stands.")
    applicant_masked: str = Field(examples=["110105********002X"])
    applicant: MaskedApplicant | None = Field(default=None, description="The applicant, masked (issue 16).")
    agent: MaskedAgent | None = Field(default=None, description="The agent acting for them, masked.")
    materials: list[MaterialView]
    status: CaseStatus
    reason: str = Field(description="The reason of the last rejection, supplement request or withdrawal (masked).")
    sequence: int = Field(description="The number of the case's last step.")
    waybill_numbers: list[str] = Field(description="UPU S10 numbers of the posts of its materials and result.")
    attestation_id: str | None = Field(description="The acceptance attestation, once accepted.")
    originals_checks: list[OriginalsCheckView] = Field(default_factory=list,
                                                       description="The window's checks of originals.")
    notices: list[NoticeView] = Field(default_factory=list, description="The case's one-time notices.")
    delivery_exception: DeliveryExceptionView | None = Field(
        default=None, description="Set while the result's post is returned or lost (issue 16).")
    committed_days: int = Field(description="Working days the owners committed to.")
    accepted_on: date | None
    due_on: date | None = Field(description="Due date in working days, paused during supplements.")
    deadline_provisional: bool = Field(description="The due date crosses a year whose schedule is not loaded.")
    overdue: bool
    submitted_at: Timestamp


class ClerkView(BaseModel):
    """Who took a step: the locality system's client and, when it said so, the person (id and name)."""

    client_id: str
    id: str | None = Field(None, description="The clerk's id, when the locality system gave it.")
    name: str | None = Field(None, description="The clerk's name, when the locality system gave it.")


class OriginalsCheckView(BaseModel):
    """One material's original as the window checked it (原件核验)."""

    material: str
    matches: bool
    note: str
    by: ClerkView
    at: Timestamp


class NoticeLineView(BaseModel):
    """A missing or defective material and why."""

    material: str
    reason: str


class AnswerView(BaseModel):
    """How the supplement answered one line, and what it added."""

    material: str
    answer: str
    added: list[str]


class NoticeView(BaseModel):
    """A one-time notice (一次性告知) and, once supplemented, its answer line by line."""

    number: int
    kind: Literal["window", "supplement"] = Field(description="The window's own notice, or an owner's request.")
    by_locality: str
    issued_at: Timestamp
    by: ClerkView | None = None
    lines: list[NoticeLineView]
    answers: list[AnswerView] | None
    answered_at: Timestamp | None


class LicenceVerified(BaseModel):
    """A licence verified with its issuing locality at submission (the timeline's record of it)."""

    material: str
    identifier: str
    issuing_locality: str
    verified_at: str


class ResultLicence(BaseModel):
    """The electronic licence a result was issued as (the timeline's record of it)."""

    licence_id: str
    identifier: str
    number: str
    type_code: str
    kid: str


class StepDetail(BaseModel):
    """What a step carried: each member only where the step had it (never null)."""

    model_config = ConfigDict(extra="allow")

    owners: list[str] | SkipJsonSchema[None] = Field(default=None, description="Submission: the owners found.")
    material_hashes: list[str] | SkipJsonSchema[None] = Field(default=None,
                                                              description="Receipt: the materials received.")
    waybill_number: str | SkipJsonSchema[None] = Field(default=None, description="Moved by a post's tracking.")
    reason: str | SkipJsonSchema[None] = Field(default=None, description="The reason, personal numbers masked.")
    clerk: ClerkView | SkipJsonSchema[None] = Field(default=None, description="The person behind the step.")
    licence: ResultLicence | SkipJsonSchema[None] = Field(
        default=None, description="issue_result: the electronic licence the result is.")
    licences_verified: list[LicenceVerified] | SkipJsonSchema[None] = Field(
        default=None, description="Submission: the electronic licences given as materials, each verified.")
    handover_reason: str | SkipJsonSchema[None] = Field(
        default=None, description="Received or delivered outside the post: why (personal numbers masked).")
    reason_original: str | SkipJsonSchema[None] = Field(default=None,
                                                        description="The reason as given, for the case's parties.")


class Step(BaseModel):
    """One step of a case's history."""

    model_config = ConfigDict(populate_by_name=True)

    sequence: int
    at: Timestamp
    action: str = Field(examples=["accept"])
    from_: CaseStatus | Literal[""] = Field(alias="from", description="Empty for the submission.")
    to: CaseStatus
    by: str = Field(description="The locality that took the step.")
    detail: StepDetail


class CaseDetail(CaseView):
    """A case with its timeline."""

    timeline: list[Step]


class CasePage(CursorPage):
    """A page of cases, or of the change feed (``updated_since``), whose ``next_cursor`` is always given."""

    cases: list[CaseView]
    has_more: bool = Field(description="More cases follow this page now (the change feed may grow later).")


class ScanCounts(BaseModel):
    """What a deadline scan did."""

    recomputed: int = Field(default=0, description="Provisional due dates recomputed.")
    due_soon: int = Field(default=0, description="Due-soon notices published.")
    overdue: int = Field(default=0, description="Overdue notices published.")


class LocalOnly(BaseModel):
    """A locality's own figures for its local-only cases of an item."""

    period: str
    cases: int
    median_working_days: float
    on_time_rate: float


class ItemFigures(BaseModel):
    """One item's cross-locality figures."""

    item_code: str
    cases: int
    by_status: dict[CaseStatus, int]
    median_working_days: float | None = Field(description="Over finished cases; null before the first.")
    on_time_rate: float | None
    local_only: LocalOnly | None = None


class Figures(BaseModel):
    """The caller's locality's figures, per item."""

    locality: str
    items: list[ItemFigures]


class LocalFiguresView(BaseModel):
    """The local-only figures as reported."""

    locality: str
    item_code: str
    period: str
    cases: int
    median_working_days: float
    on_time_rate: float


class YearView(BaseModel):
    """A year's working-day schedule as routing uses it."""

    year: int
    source: str
    holidays: list[date]
    adjusted_workdays: list[date]
