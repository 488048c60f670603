"""Events of the routing service. They carry no personal data: applicants appear masked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from shared.contracts.catalogue import HandlingMode
from shared.envelope import Event, event_type


@event_type
class CaseSubmitted(Event):
    """A window accepted a case for another locality."""

    type_name = "cn.tongban.routing.case.submitted"

    case_id: str
    item_code: str
    mode: HandlingMode
    accepting_locality: str
    owning_localities: list[str] = Field(min_length=1)
    applicant_masked: str
    submitted_at: datetime

    def subject(self) -> str:
        return self.case_id


@event_type
class CaseForwarded(Event):
    """The accepting window sent a case's materials on to an owner (one event per owner)."""

    type_name = "cn.tongban.routing.case.forwarded"

    case_id: str
    accepting_locality: str
    owning_locality: str
    material_hashes: list[str] = Field(default_factory=list)
    mode: HandlingMode | None = None
    by_post: bool = True
    """Whether paper materials travel by post (accepted here, handled there); delivery makes a waybill."""

    def subject(self) -> str:
        return self.case_id


@event_type
class CaseStatusChanged(Event):
    """A case moved from one status of its life cycle to another."""

    type_name = "cn.tongban.routing.case.status_changed"

    case_id: str
    from_status: str
    to_status: str
    by_locality: str
    sequence: int = Field(ge=1)
    action: str | None = None
    mode: HandlingMode | None = None
    accepting_locality: str | None = None
    owners: list[str] = Field(default_factory=list)
    reason: str = ""
    """Why a case was rejected or withdrawn."""
    attestation_id: str | None = None
    result_by_post: bool | None = None
    """On result_issued: whether the paper result goes by post (delivery makes a waybill)."""
    result_documents: list[str] = Field(default_factory=list)
    """On result_issued: SHA-256 of the result documents in the case's file (fetched from routing)."""

    def subject(self) -> str:
        return self.case_id


@event_type
class CaseDeliveryException(Event):
    """The result's post came back to the sender or was lost: the case waits for a new delivery or a
    hand-over with a reason before the result counts as delivered."""

    type_name = "cn.tongban.routing.case.delivery_exception"

    case_id: str
    waybill_number: str
    waybill_status: Literal["returned", "exception"]
    reason: str = Field(default="", description="The carrier's reason, personal numbers masked.")
    accepting_locality: str
    owners: list[str]

    def subject(self) -> str:
        return self.case_id


@event_type
class CaseResultRevoked(Event):
    """An owner revoked a case's issued result (for instance a commitment in place of a proof was found
    false, 告知承诺制): every licence issued for the case is revoked with it, on the holder's topics."""

    type_name = "cn.tongban.routing.case.result_revoked"

    case_id: str
    item_code: str
    owning_locality: str
    accepting_locality: str
    reason: str = Field(min_length=1, description="Why the result was revoked, personal numbers masked.")
    revoked_at: datetime

    def subject(self) -> str:
        return self.case_id


@event_type
class CaseDeadlineSet(Event):
    """A case's due date was set or recomputed (on acceptance, after a pause, when a calendar arrives)."""

    type_name = "cn.tongban.routing.case.deadline_set"

    case_id: str
    owners: list[str]
    due_on: date
    provisional: bool
    """True when the date crosses a year whose statutory schedule is not loaded: operators must load it."""
    committed_days: int
    paused_working_days: int = 0

    def subject(self) -> str:
        return self.case_id


@event_type
class CaseDueSoon(Event):
    """A case is due within one working day."""

    type_name = "cn.tongban.routing.case.due_soon"

    case_id: str
    owner: str
    due_on: date

    def subject(self) -> str:
        return self.case_id


@event_type
class CaseOverdue(Event):
    """A case passed its due date: escalated to the owner's supervisors."""

    type_name = "cn.tongban.routing.case.overdue"

    case_id: str
    owner: str
    due_on: date
    escalate_to_role: str = "supervisor"

    def subject(self) -> str:
        return self.case_id


@event_type
class CalendarScheduleChanged(Event):
    """The joint office loaded, replaced or withdrew a year's statutory schedule (to every locality).

    The audit record of the shared calendar: every locality's deadlines in that year are recomputed.
    """

    type_name = "cn.tongban.routing.calendar.schedule_changed"

    year: int
    schedule_version: int = Field(ge=1)
    change: Literal["loaded", "replaced", "withdrawn"]
    source: str = ""
    holidays: list[date] = Field(default_factory=list)
    adjusted_workdays: list[date] = Field(default_factory=list)
    reason: str = ""
    by_locality: str
    by_client: str
    changed_at: datetime
    recomputed: int = 0
    """Open cases whose due date changed."""

    def subject(self) -> str:
        return str(self.year)


@event_type
class DelegationDecisionUsed(Event):
    """Routing took a case under a delegation decision it remembered: that decision's audit line.

    The authorization service answered ``question`` (the check's request parameters) at
    ``decided_at`` and audited that answer; routing remembered it (until an agreement changes, or a
    few seconds) and used it again at ``used_at`` for ``case_id``. The authorization service records
    this use in the actor locality's audit chain as it records a check it answers itself.
    """

    type_name = "cn.tongban.routing.delegation.used"

    case_id: str
    actor_locality: str
    actor: str
    question: dict[str, str]
    allowed: bool
    reason: str
    agreement_id: str | None = None
    decided_at: datetime
    used_at: datetime

    def subject(self) -> str:
        return self.case_id
