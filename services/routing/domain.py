"""Rules of cross-locality cases: identifiers, the life cycle, who may move a case. Pure: no I/O."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field, replace
from enum import StrEnum

# --------------------------------------------------------------------------- applicant identifiers

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_check(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of a resident identity number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_resident_id(value: str) -> bool:
    """Whether ``value`` is an 18-character resident identity number with a valid check character."""
    return (
        len(value) == 18
        and value[:17].isdigit()
        and value[17] in "0123456789X"
        and resident_id_check(value[:17]) == value[17]
    )


def uscc_check(first17: str) -> str:
    """The GB 32100 check character of a unified social credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_uscc(value: str) -> bool:
    """Whether ``value`` is a unified social credit code with a valid check character."""
    return (
        len(value) == 18
        and all(c in USCC_CHARSET for c in value)
        and uscc_check(value[:17]) == value[17]
    )


class InvalidIdentifier(ValueError):
    """An applicant identifier that fails its standard's check."""


@dataclass(frozen=True)
class ApplicantRef:
    """An applicant as routing keeps them: a keyed hash and a masked form, never the number."""

    kind: str  # "person" or "enterprise"
    digest: str
    masked: str


def applicant_ref(identifier: str, key: bytes) -> ApplicantRef:
    """Validate an identifier and reduce it to a keyed hash and a masked display form."""
    value = identifier.strip().upper()
    if is_resident_id(value):
        kind = "person"
    elif is_uscc(value):
        kind = "enterprise"
    else:
        raise InvalidIdentifier(
            "not a resident identity number (GB 11643) nor a unified social credit code (GB 32100)"
        )
    digest = hmac.new(key, value.encode("ascii"), hashlib.sha256).hexdigest()
    return ApplicantRef(kind, digest, value[:6] + "*" * 8 + value[-4:])


# --------------------------------------------------------------------------- life cycle


class CaseStatus(StrEnum):
    """Where a case stands in its life cycle."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    FORWARDED = "forwarded"
    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    SUPPLEMENTED = "supplemented"
    APPROVED = "approved"
    REJECTED = "rejected"
    RESULT_ISSUED = "result_issued"
    RESULT_DELIVERED = "result_delivered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Side(StrEnum):
    """Which party of a case performs a transition."""

    ACCEPTING = "accepting"
    OWNING = "owning"


S = CaseStatus
TRANSITIONS: dict[str, tuple[frozenset[CaseStatus], CaseStatus, Side]] = {
    "accept": (frozenset({S.SUBMITTED}), S.ACCEPTED, Side.ACCEPTING),
    "forward": (frozenset({S.ACCEPTED}), S.FORWARDED, Side.ACCEPTING),
    "receive": (frozenset({S.FORWARDED}), S.RECEIVED, Side.OWNING),
    "start_review": (frozenset({S.RECEIVED, S.SUPPLEMENTED}), S.UNDER_REVIEW, Side.OWNING),
    "request_supplement": (frozenset({S.UNDER_REVIEW}), S.SUPPLEMENT_REQUESTED, Side.OWNING),
    "supplement": (frozenset({S.SUPPLEMENT_REQUESTED}), S.SUPPLEMENTED, Side.ACCEPTING),
    "approve": (frozenset({S.UNDER_REVIEW}), S.APPROVED, Side.OWNING),
    "reject": (frozenset({S.UNDER_REVIEW}), S.REJECTED, Side.OWNING),
    "issue_result": (frozenset({S.APPROVED, S.REJECTED}), S.RESULT_ISSUED, Side.OWNING),
    "deliver_result": (frozenset({S.RESULT_ISSUED}), S.RESULT_DELIVERED, Side.OWNING),
    "close": (frozenset({S.RESULT_DELIVERED}), S.CLOSED, Side.ACCEPTING),
    "withdraw": (
        frozenset({S.SUBMITTED, S.ACCEPTED, S.FORWARDED, S.RECEIVED, S.UNDER_REVIEW,
                   S.SUPPLEMENT_REQUESTED, S.SUPPLEMENTED}),
        S.WITHDRAWN,
        Side.ACCEPTING,
    ),
}
"""Action -> (statuses it may start from, status it leads to, the side that performs it)."""


class IllegalTransition(ValueError):
    """An action the case's status or the caller's side does not allow; lists the allowed ones."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


@dataclass(frozen=True)
class Case:
    """A cross-locality case: accepted at one locality, handled by its owner."""

    id: str
    item_code: str
    mode: str
    accepting_locality: str
    owning_locality: str
    applicant: ApplicantRef
    status: CaseStatus = CaseStatus.SUBMITTED
    sequence: int = 1
    waybill_numbers: tuple[str, ...] = field(default=())

    def side_of(self, locality: str) -> set[Side]:
        """The sides ``locality`` plays in this case (none, one, or both)."""
        sides = set()
        if locality == self.accepting_locality:
            sides.add(Side.ACCEPTING)
        if locality == self.owning_locality:
            sides.add(Side.OWNING)
        return sides

    def allowed_actions(self, locality: str) -> list[str]:
        """The actions ``locality`` may take on the case now."""
        sides = self.side_of(locality)
        return [a for a, (src, _dst, side) in TRANSITIONS.items() if self.status in src and side in sides]

    def apply(self, action: str, locality: str) -> Case:
        """The case after ``locality`` took ``action``; :class:`IllegalTransition` if it may not."""
        allowed = self.allowed_actions(locality)
        if action not in TRANSITIONS:
            raise IllegalTransition(f"unknown action {action!r}", allowed)
        if action not in allowed:
            raise IllegalTransition(
                f"{action} is not allowed for locality {locality} while the case is {self.status}", allowed
            )
        return replace(self, status=TRANSITIONS[action][1], sequence=self.sequence + 1)

    def with_waybill(self, number: str) -> Case:
        """The case with a waybill attached (once)."""
        if number in self.waybill_numbers:
            return self
        return replace(self, waybill_numbers=(*self.waybill_numbers, number))
