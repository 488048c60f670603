"""Events of the routing service. They carry no personal data: applicants appear masked."""

from __future__ import annotations

from datetime import datetime

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
    """The accepting window sent a case's materials on to the owner."""

    type_name = "cn.tongban.routing.case.forwarded"

    case_id: str
    accepting_locality: str
    owning_locality: str
    material_hashes: list[str] = Field(default_factory=list)

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

    def subject(self) -> str:
        return self.case_id
