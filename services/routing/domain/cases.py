"""Cross-locality cases: the life cycle, who may move a case, how owners are found. Pure: no I/O.

A case is accepted at one locality and handled by one owner (fully online; accepted here, handled
there) or by several (joint handling). Each owner's part moves through the owner's side of the life
cycle; the case's status follows its parts: rejected as soon as one owner rejects, approved when
every owner has approved, otherwise as far as the slowest part has come.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from services.routing.domain.identifiers import ApplicantRef


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
    LEAD_OWNER = "lead_owner"


S = CaseStatus
MODES = ("fully_online", "accepted_here_handled_there", "joint_handling")
FINISHED = frozenset({S.APPROVED, S.REJECTED, S.RESULT_ISSUED, S.RESULT_DELIVERED, S.CLOSED, S.WITHDRAWN})
"""Statuses in which the owners' clock has stopped."""

TRANSITIONS: dict[str, tuple[frozenset[CaseStatus], CaseStatus, Side]] = {
    "accept": (frozenset({S.SUBMITTED}), S.ACCEPTED, Side.ACCEPTING),
    "forward": (frozenset({S.ACCEPTED}), S.FORWARDED, Side.ACCEPTING),
    "receive": (frozenset({S.FORWARDED}), S.RECEIVED, Side.OWNING),
    "start_review": (frozenset({S.RECEIVED, S.SUPPLEMENTED}), S.UNDER_REVIEW, Side.OWNING),
    "request_supplement": (frozenset({S.UNDER_REVIEW}), S.SUPPLEMENT_REQUESTED, Side.OWNING),
    "supplement": (frozenset({S.SUPPLEMENT_REQUESTED}), S.SUPPLEMENTED, Side.ACCEPTING),
    "approve": (frozenset({S.UNDER_REVIEW}), S.APPROVED, Side.OWNING),
    "reject": (frozenset({S.UNDER_REVIEW}), S.REJECTED, Side.OWNING),
    "issue_result": (frozenset({S.APPROVED, S.REJECTED}), S.RESULT_ISSUED, Side.LEAD_OWNER),
    "deliver_result": (frozenset({S.RESULT_ISSUED}), S.RESULT_DELIVERED, Side.LEAD_OWNER),
    "close": (frozenset({S.RESULT_DELIVERED}), S.CLOSED, Side.ACCEPTING),
    "withdraw": (
        frozenset({S.SUBMITTED, S.ACCEPTED, S.FORWARDED, S.RECEIVED, S.UNDER_REVIEW,
                   S.SUPPLEMENT_REQUESTED, S.SUPPLEMENTED}),
        S.WITHDRAWN,
        Side.ACCEPTING,
    ),
}
"""Action -> (statuses it may start from, status it leads to, the side that performs it).

Owner actions (``receive`` … ``reject``) apply to the acting owner's part; the others to the case."""

PART_ORDER = [S.FORWARDED, S.RECEIVED, S.SUPPLEMENTED, S.UNDER_REVIEW, S.SUPPLEMENT_REQUESTED, S.APPROVED]


class IllegalTransition(ValueError):
    """An action the case's status or the caller's side does not allow; lists the allowed ones."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


@dataclass(frozen=True)
class Material:
    """A material handed in at the window: its name, and the SHA-256 of its file if electronic (and its SM3,
    when the window declares that too: its file must then hash to both)."""

    name: str
    form: str
    sha256: str | None = None
    sm3: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """As stored, answered and attested (``sm3`` only when declared, so older forms stay as they were)."""
        return {"name": self.name, "form": self.form, "sha256": self.sha256, **({"sm3": self.sm3} if self.sm3 else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Material:
        """A material from its stored or requested form."""
        return cls(data["name"], data["form"], data.get("sha256"), data.get("sm3"))


@dataclass(frozen=True)
class Case:
    """A cross-locality case: accepted at one locality, handled by its owner(s)."""

    id: str
    item_code: str
    mode: str
    accepting_locality: str
    owners: tuple[str, ...]
    applicant: ApplicantRef
    materials: tuple[Material, ...] = ()
    status: CaseStatus = CaseStatus.SUBMITTED
    parts: tuple[tuple[str, CaseStatus], ...] = ()
    sequence: int = 1
    waybill_numbers: tuple[str, ...] = field(default=())
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.owners:
            raise ValueError("a case has at least one owner")
        if self.mode != "joint_handling" and len(self.owners) != 1:
            raise ValueError(f"mode {self.mode} has exactly one owner")
        if self.accepting_locality in self.owners and len(self.owners) == 1:
            raise ValueError("a cross-locality case is owned by another locality")

    @property
    def owning_locality(self) -> str:
        """The lead owner: the only one, or the first of a joint case (it issues the result)."""
        return self.owners[0]

    @property
    def involved(self) -> list[str]:
        """Every locality the case concerns: the accepting one and the owners."""
        return list(dict.fromkeys((self.accepting_locality, *self.owners)))

    @property
    def material_hashes(self) -> list[str]:
        """SHA-256 of every electronic material, as attested at acceptance."""
        return sorted(m.sha256 for m in self.materials if m.sha256)

    def part(self, owner: str) -> CaseStatus:
        """Where one owner's part stands (the case's status before forwarding)."""
        return dict(self.parts).get(owner, self.status)

    def sides_of(self, locality: str) -> set[Side]:
        """The sides ``locality`` plays in this case."""
        sides = set()
        if locality == self.accepting_locality:
            sides.add(Side.ACCEPTING)
        if locality in self.owners:
            sides.add(Side.OWNING)
        if locality == self.owning_locality:
            sides.add(Side.LEAD_OWNER)
        return sides

    def side_of(self, locality: str) -> set[Side]:
        """Alias of :meth:`sides_of`."""
        return self.sides_of(locality)

    def allowed_actions(self, locality: str) -> list[str]:
        """The actions ``locality`` may take on the case now."""
        sides = self.sides_of(locality)
        allowed = []
        for action, (sources, _target, side) in TRANSITIONS.items():
            if side not in sides:
                continue
            current = self.part(locality) if side is Side.OWNING and self.parts else self.status
            if side is Side.OWNING and self.status in FINISHED:
                continue
            if current in sources:
                allowed.append(action)
        return allowed

    def apply(self, action: str, locality: str, reason: str = "") -> Case:
        """The case after ``locality`` took ``action``; :class:`IllegalTransition` if it may not."""
        allowed = self.allowed_actions(locality)
        if action not in TRANSITIONS:
            raise IllegalTransition(f"unknown action {action!r}", allowed)
        if action not in allowed:
            state = self.part(locality) if Side.OWNING in self.sides_of(locality) and self.parts else self.status
            raise IllegalTransition(
                f"{action} is not allowed for locality {locality} while the case is {state}", allowed
            )
        target = TRANSITIONS[action][1]
        side = TRANSITIONS[action][2]
        if action == "forward":
            moved = replace(self, status=target, parts=tuple((o, S.FORWARDED) for o in self.owners))
        elif side is Side.OWNING:
            parts = tuple((o, target if o == locality else s) for o, s in self.parts)
            moved = replace(self, parts=parts, status=_status_of(parts),
                            reason=reason if target is S.REJECTED else self.reason)
        elif action == "supplement":
            parts = tuple((o, S.SUPPLEMENTED if s is S.SUPPLEMENT_REQUESTED else s) for o, s in self.parts)
            moved = replace(self, parts=parts, status=_status_of(parts))
        else:
            moved = replace(self, status=target, reason=reason or self.reason)
        return replace(moved, sequence=self.sequence + 1)

    def with_waybill(self, number: str) -> Case:
        """The case with a waybill attached (once)."""
        if number in self.waybill_numbers:
            return self
        return replace(self, waybill_numbers=(*self.waybill_numbers, number))


def _status_of(parts: tuple[tuple[str, CaseStatus], ...]) -> CaseStatus:
    """The case's status from its owners' parts."""
    statuses = [s for _o, s in parts]
    if S.REJECTED in statuses:
        return S.REJECTED
    if S.SUPPLEMENT_REQUESTED in statuses:
        return S.SUPPLEMENT_REQUESTED
    return min(statuses, key=PART_ORDER.index)


def owners_for(rule: str, attributes: dict[str, list[str]], locality_codes: list[str]) -> list[str]:
    """The localities that own a case under the item's ownership ``rule``.

    ``attributes`` maps each rule (household registration place, insured place, ...) to GB/T 2260 codes
    of the applicant's places; a place belongs to a registered locality whose code equals it, or, for a
    city-level locality (code ending in 00), whose first four digits it shares.
    """
    places = attributes.get(rule) or []
    if not places:
        raise ValueError(f"the item's owner is decided by {rule}; it is missing")
    owners: list[str] = []
    for place in places:
        owner = locality_of_place(place, locality_codes)
        if owner is None:
            raise ValueError(f"{rule} {place} is in no locality that takes part")
        if owner not in owners:
            owners.append(owner)
    return owners


def locality_of_place(place: str, locality_codes: list[str]) -> str | None:
    """The registered locality a GB/T 2260 place code belongs to, if any."""
    if place in locality_codes:
        return place
    for code in locality_codes:
        if code.endswith("00") and not code.endswith("0000") and place[:4] == code[:4]:
            return code
        if code.endswith("0000") and place[:2] == code[:2]:
            return code
    return None
