"""The response models of the dashboard's JSON API (``/api/...``): what the page reads.

Every route answers one of these, so that each 2xx of the dashboard's OpenAPI document has a
schema. Times are :data:`shared.api_types.Timestamp` (RFC 3339 with an offset), dates are dates.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.api_types import Timestamp


class LocalityName(BaseModel):
    """A locality and its names."""

    code: str = Field(examples=["320505"])
    name_zh: str
    name_en: str


class Meta(BaseModel):
    """Localities and the statuses of the life cycle, for the page."""

    localities: list[LocalityName]
    statuses: list[str] = Field(description="The case statuses in life-cycle order.")
    lag_source: Literal["memory", "kafka"]


class DeadLetterInfo(BaseModel):
    """Why a record was dead-lettered, from its headers."""

    reason: str
    group: str
    topic: str
    partition: str
    offset: str
    event_id: str | None


class EventView(BaseModel):
    """An event the dashboard handled: its envelope and its data, personal data masked."""

    id: str
    type: str = Field(examples=["cn.tongban.routing.case.submitted.v1"])
    source: str
    subject: str
    time: Timestamp
    case_id: str | None
    traceparent: str | None
    data: dict[str, Any] = Field(description="The event's data, masked; its schema per type is in `/asyncapi.json`.")
    localities: list[str] = Field(description="The locality topics it was read on.")
    locality: str | None
    received_at: Timestamp
    dead_letter: DeadLetterInfo | None


class RateSeries(BaseModel):
    """One locality's events per minute."""

    locality: str
    counts: list[int]


class TypeRate(BaseModel):
    """How many events of a type, in total and per locality."""

    type: str
    count: int
    by_locality: dict[str, int]


class RatesPanel(BaseModel):
    """Events per minute and locality, and per type, over the last hour."""

    minutes: list[int] = Field(description="Minutes since 1970 (UTC), oldest first.")
    series: list[RateSeries]
    types: list[TypeRate]
    total: int


class StatusCount(BaseModel):
    """Cases in one status."""

    status: str
    count: int


class FunnelPanel(BaseModel):
    """Cases by status."""

    statuses: list[StatusCount]
    total: int


class OwnerDeadlines(BaseModel):
    """One owner's open cases due soon, overdue, and with a provisional deadline."""

    locality: str
    due_soon: int
    overdue: int
    provisional: int


class LateCase(BaseModel):
    """A case due soon or overdue at one owner."""

    case_id: str
    owner: str
    state: Literal["due_soon", "overdue", "on_track"]
    due_on: date | None
    provisional: bool


class DeadlinesPanel(BaseModel):
    """Cases due soon and overdue per owner."""

    owners: list[OwnerDeadlines]
    cases: list[LateCase]


class CaseFiles(BaseModel):
    """How many files of a case are in, and whether they are complete (never their content)."""

    case_id: str
    status: str
    accepting_locality: str | None
    owning_localities: list[str]
    files_in: int
    complete: bool | None = Field(description="null until routing said whether every material is in.")


class FilesPanel(BaseModel):
    """Per case: its files."""

    cases: list[CaseFiles]


class WaybillException(BaseModel):
    """A waybill in exception or late."""

    waybill_number: str
    case_id: str | None
    flow: str | None
    sender_locality: str | None
    receiver_locality: str | None
    status: str
    exception: bool
    late: bool
    reason: str | None
    updated_at: Timestamp | None


class DeliveriesPanel(BaseModel):
    """Waybills in exception or late, and waybills per status."""

    exceptions: list[WaybillException]
    by_status: dict[str, int]
    total: int


class AgreementState(BaseModel):
    """An agreement and its signatures."""

    agreement_id: str
    status: str
    parties: list[str]
    signed_parties: list[str]
    unsigned_parties: list[str]
    last_change: str
    last_party: str
    reason: str
    updated_at: Timestamp | None


class AgreementsPanel(BaseModel):
    """Agreements and their signatures."""

    agreements: list[AgreementState]


class DeadLetterReason(BaseModel):
    """Dead letters of one reason class and consumer group."""

    reason_class: str
    group: str
    count: int
    example: str
    last_at: Timestamp


class DeadLettersPanel(BaseModel):
    """Dead letters by reason and consumer group."""

    total: int
    reasons: list[DeadLetterReason]


class LagView(BaseModel):
    """How far one consumer group is behind on one locality's topic."""

    group: str
    service: str
    topic: str
    locality: str | None
    lag: int
    partitions: int
    committed: int
    end: int


class LagPanel(BaseModel):
    """Consumer lag per service and topic."""

    source: Literal["memory", "kafka"]
    rows: list[LagView]
    error: str | None = Field(description="Why the lag could not be read; null when it was.")
    at: float = Field(description="When it was read, in seconds since 1970.")
    age_seconds: float
