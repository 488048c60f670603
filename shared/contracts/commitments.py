"""Events of commitments in place of proofs (告知承诺制, 国办发〔2020〕42号), published by routing.

An applicant commits in writing in place of materials the owner's business standard lets a commitment
replace; the owner verifies it within the standard's time limit; a commitment found false revokes the
case's result (``CaseResultRevoked``, shared/contracts/routing.py) or ends the case unissued, and is
recorded against the applicant (by keyed hash, never the number) for the item. No personal data.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from shared.envelope import Event, event_type


@event_type
class CommitmentRecorded(Event):
    """A case was accepted with a commitment in place of materials: the owner's verification task is open."""

    type_name = "cn.tongban.routing.commitment.recorded"

    commitment_id: str
    case_id: str
    item_code: str
    owner: str
    accepting_locality: str
    replaces: list[str] = Field(min_length=1, description="The materials the commitment stands in for.")
    text_sha256: str = Field(description="SHA-256 of the commitment's exact text (the text is in routing).")
    due_on: date = Field(description="The owner verifies it by this day (working days, statutory calendar).")

    def subject(self) -> str:
        return self.case_id


@event_type
class CommitmentVerified(Event):
    """The owner verified a commitment: found true, or found false with the reason (the case's result is
    revoked, or the case ended, with it; the applicant's record for the item holds it)."""

    type_name = "cn.tongban.routing.commitment.verified"

    commitment_id: str
    case_id: str
    item_code: str
    owner: str
    accepting_locality: str
    found: bool = Field(description="true: the commitment was found true; false: found false.")
    reason: str = Field(default="", description="Why it was found false, personal numbers masked.")
    verified_at: datetime
    on_time: bool = Field(description="Whether the verification came by the due day.")
    case_outcome: str = Field(default="", description="found false: result_revoked, terminated, or '' (the case "
                                                      "had already ended).")

    def subject(self) -> str:
        return self.case_id


@event_type
class CommitmentOverdue(Event):
    """A commitment's verification passed its due day unverified (told once, to the case's localities)."""

    type_name = "cn.tongban.routing.commitment.overdue"

    commitment_id: str
    case_id: str
    item_code: str
    owner: str
    due_on: date

    def subject(self) -> str:
        return self.case_id
