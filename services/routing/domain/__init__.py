"""Routing's pure rules: identifiers, the case life cycle, ownership, deadlines."""

from services.routing.domain.cases import (
    FINISHED,
    MODES,
    TRANSITIONS,
    Case,
    CaseStatus,
    IllegalTransition,
    Material,
    Side,
    locality_of_place,
    owners_for,
)
from services.routing.domain.deadlines import (
    Deadline,
    Pause,
    WorkingCalendar,
    YearSchedule,
    deadline,
    notice,
    schedule_from_days,
)
from services.routing.domain.identifiers import (
    ApplicantRef,
    InvalidIdentifier,
    applicant_digest,
    applicant_ref,
    is_resident_id,
    is_uscc,
    resident_id_check,
    uscc_check,
)

__all__ = [
    "FINISHED", "MODES", "TRANSITIONS", "ApplicantRef", "Case", "CaseStatus", "Deadline", "IllegalTransition",
    "InvalidIdentifier", "Material", "Pause", "Side", "WorkingCalendar", "YearSchedule", "applicant_digest",
    "applicant_ref", "deadline", "is_resident_id", "is_uscc", "locality_of_place",
    "notice", "owners_for", "resident_id_check", "schedule_from_days", "uscc_check",
]
