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
from services.routing.domain.materials import InvalidMaterial, clean_digest, clean_name


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
    RESULT_REVOKED = "result_revoked"
    """The issued result was revoked (a commitment in place of a proof found false: services/routing/commitments)."""
    TERMINATED = "terminated"
    """Ended before a result was issued (a commitment found false): terminal, with the reason."""


class Side(StrEnum):
    """Which party of a case performs a transition."""

    ACCEPTING = "accepting"
    OWNING = "owning"
    LEAD_OWNER = "lead_owner"


S = CaseStatus
MODES = ("fully_online", "accepted_here_handled_there", "joint_handling")
FINISHED = frozenset({S.APPROVED, S.REJECTED, S.RESULT_ISSUED, S.RESULT_DELIVERED, S.CLOSED, S.WITHDRAWN,
                      S.RESULT_REVOKED, S.TERMINATED})
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
    "hand_over_result": (frozenset({S.RESULT_ISSUED}), S.RESULT_DELIVERED, Side.ACCEPTING),
    "close": (frozenset({S.RESULT_DELIVERED}), S.CLOSED, Side.ACCEPTING),
    "withdraw": (
        frozenset({S.SUBMITTED, S.ACCEPTED, S.FORWARDED, S.RECEIVED, S.UNDER_REVIEW,
                   S.SUPPLEMENT_REQUESTED, S.SUPPLEMENTED}),
        S.WITHDRAWN,
        Side.ACCEPTING,
    ),
}
"""Action -> (statuses it may start from, status it leads to, the side that performs it).

``hand_over_result``: the accepting window hands the decision to the applicant (审批结果送达权).

Owner actions (``receive`` … ``reject``) apply to the acting owner's part; the others to the case."""

RIGHT_OF_ACTION: dict[str, str] = {
    "submit": "receive_accept",
    "accept": "receive_accept",
    "supplement": "receive_accept",
    "notify": "one_time_notice",
    "check_originals": "check_originals",
    "hand_over_result": "deliver_result",
}
"""The delegated right (services/authorization/rights.py) the accepting window needs, for each owner other
than itself, to take an action on that owner's behalf: 收件受理权, 一次性告知权, 原件核验权, 审批结果送达权."""

PART_ORDER = [S.FORWARDED, S.RECEIVED, S.SUPPLEMENTED, S.UNDER_REVIEW, S.SUPPLEMENT_REQUESTED, S.APPROVED]


class CaseRuleBroken(ValueError):
    """A step the case's rules refuse; ``status`` and ``slug`` say how (409 a state, 422 a request)."""

    status = 409
    slug = "illegal-transition"
    title = "Illegal transition"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


class IllegalTransition(CaseRuleBroken):
    """An action the case's status or the caller's side does not allow; lists the allowed ones and whose
    turn it is (``turn``: each locality that may act now and its actions)."""

    def __init__(self, message: str, allowed: list[str], turn: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, allowed=allowed, turn=turn or {})
        self.allowed = allowed
        self.turn = turn or {}


class UnknownAction(CaseRuleBroken):
    """An action the life cycle does not have."""

    status, slug, title = 422, "unknown-action", "Unknown action"


class ReasonRequired(CaseRuleBroken):
    """A step that must say why."""

    status, slug, title = 422, "reason-required", "Reason required"


class MaterialsMismatch(CaseRuleBroken):
    """The materials the owner received are not those attested at acceptance."""

    slug, title = "materials-mismatch", "Materials mismatch"


class NotDelivered(CaseRuleBroken):
    """Posted materials received before their waybill was delivered, without a hand-over reason."""

    slug, title = "materials-not-delivered", "Materials not delivered"


class DeliveryExceptionOpen(CaseRuleBroken):
    """The result's post came back or was lost: a new delivery or a hand-over with a reason comes first."""

    slug, title = "delivery-exception", "Delivery exception"


@dataclass(frozen=True)
class Move:
    """What the acting locality asks: an action, with what the action needs.

    ``by_event`` is set when routing moves the case on another service's word (a waybill delivered, a
    receipt confirmed): the fact is the evidence. ``handover_reason`` records a hand-over outside the post.
    """

    action: str
    locality: str
    reason: str = ""
    handover_reason: str = ""
    material_hashes: tuple[str, ...] = ()
    waybill_number: str = ""
    by_event: bool = False


@dataclass(frozen=True)
class Waybill:
    """A post of the case, as delivery last told: its number, flow (materials, result) and status."""

    number: str
    flow: str
    status: str = "created"


@dataclass(frozen=True)
class DeliveryProblem:
    """The result's post came back (``returned``) or was lost (``exception``)."""

    waybill_number: str
    status: str
    reason: str = ""


RESULT_LOST = frozenset({"returned", "exception"})
DECLARED_FORMS = ("original", "copy", "original_and_copy", "electronic", "paper")
"""The forms a window declares: the shared vocabulary (shared/contracts/catalogue.py) and ``paper``, the
older word for a paper material of unstated form (it serves as a copy)."""


@dataclass(frozen=True)
class Material:
    """A material handed in at the window: its name, and the SHA-256 of its file if electronic (and its SM3,
    when the window declares that too: its file must then hash to both)."""

    name: str
    form: str
    sha256: str | None = None
    sm3: str | None = None
    count: int = 1
    supplement: int = 0
    """0: handed in at submission; n: added by the n-th supplement (its answer to the one-time notice)."""
    licence: dict[str, Any] | None = None
    """An electronic licence given instead of a scan, as its issuing locality verified it (mutual recognition)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name))
        if self.sha256 is not None:
            object.__setattr__(self, "sha256", clean_digest(self.sha256))
        if self.sm3 is not None:
            object.__setattr__(self, "sm3", clean_digest(self.sm3, "sm3"))
        if self.sm3 and not self.sha256:
            raise InvalidMaterial("an SM3 digest is declared beside the SHA-256 of an electronic material")
        if self.form not in DECLARED_FORMS:
            raise InvalidMaterial(f"unknown form {self.form!r}; one of {', '.join(DECLARED_FORMS)}")
        if not 1 <= self.count <= 99:
            raise InvalidMaterial("a material's count is 1 to 99")
        if self.form == "electronic" and not self.sha256:
            raise InvalidMaterial(f"the electronic material {self.name!r} needs the SHA-256 of its file")

    def to_dict(self) -> dict[str, Any]:
        """As stored, answered and attested (``sm3``, ``count`` and ``supplement`` only when not the default, so
        older forms stay as they were)."""
        return {"name": self.name, "form": self.form, "sha256": self.sha256, **({"sm3": self.sm3} if self.sm3 else {}),
                **({"count": self.count} if self.count != 1 else {}),
                **({"supplement": self.supplement} if self.supplement else {}),
                **({"licence": self.licence} if self.licence else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Material:
        """A material from its stored or requested form."""
        return cls(data["name"], data["form"], data.get("sha256"), data.get("sm3"), int(data.get("count") or 1),
                   int(data.get("supplement") or 0), data.get("licence") or None)


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
    waybills: tuple[Waybill, ...] = ()
    delivery_exception: DeliveryProblem | None = None

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

    def turn(self) -> dict[str, list[str]]:
        """Whose turn it is: each locality that may move the case on now, with its actions (withdrawal,
        always open to the window before a decision, left out)."""
        turn = {}
        for locality in self.involved:
            actions = [a for a in self.allowed_actions(locality) if a != "withdraw"]
            if actions:
                turn[locality] = actions
        return turn

    def _refuse(self, move: Move, allowed: list[str]) -> IllegalTransition:
        state = self.part(move.locality) if Side.OWNING in self.sides_of(move.locality) and self.parts \
            else self.status
        turn = self.turn()
        if turn:
            whose = "; ".join(f"{loc} may {', '.join(actions)}" for loc, actions in turn.items())
        elif self.status is S.RESULT_ISSUED and self.delivery_exception is None:
            whose = "waiting for the post to deliver the result"
        else:
            whose = "no locality can move it now"
        return IllegalTransition(
            f"{move.action} is not allowed for locality {move.locality} while the case is {state}: {whose}",
            allowed, turn)

    def apply(self, move: Move | str, locality: str = "", reason: str = "") -> Case:
        """The case after ``move.locality`` took ``move.action`` (or ``locality`` the action ``move``); a
        :class:`CaseRuleBroken` if it may not."""
        if isinstance(move, str):
            move = Move(move, locality, reason)
        action, locality = move.action, move.locality
        if action not in TRANSITIONS:
            raise UnknownAction(f"unknown action {action!r}; the actions are {', '.join(TRANSITIONS)}",
                                actions=list(TRANSITIONS))
        allowed = self.allowed_actions(locality)
        if action not in allowed:
            raise self._refuse(move, allowed)
        if action in ("reject", "withdraw") and not move.reason.strip():
            raise ReasonRequired(f"{action} needs a reason")
        if action == "receive" and self.mode == "accepted_here_handled_there" and not move.by_event:
            self._check_receipt(move)
        exception = self.delivery_exception
        if action in ("deliver_result", "hand_over_result") and exception is not None:
            if move.by_event and move.waybill_number and move.waybill_number != exception.waybill_number:
                exception = None  # a new post of the result arrived
            elif move.handover_reason.strip():
                exception = None
            else:
                raise DeliveryExceptionOpen(
                    f"the result's waybill {exception.waybill_number} is {exception.status}"
                    f"{': ' + exception.reason if exception.reason else ''}; deliver it anew, or hand it over "
                    "and give the reason (handover_reason)", waybill_number=exception.waybill_number,
                    waybill_status=exception.status)
        target = TRANSITIONS[action][1]
        side = TRANSITIONS[action][2]
        reason = move.reason
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
        return replace(moved, sequence=self.sequence + 1, delivery_exception=exception)

    def _check_receipt(self, move: Move) -> None:
        """Posted materials: the hashes attested, and the waybill delivered or a hand-over reason."""
        received = sorted(clean_digest(h) for h in move.material_hashes)
        if received != self.material_hashes:
            raise MaterialsMismatch("the materials received do not match those attested at acceptance",
                                    expected=self.material_hashes, received=received)
        posts = [w for w in self.waybills if w.flow == "materials"]
        if any(w.status == "delivered" for w in posts) or move.handover_reason.strip():
            return
        where = ", ".join(f"{w.number} is {w.status}" for w in posts) or "no waybill has been issued yet"
        raise NotDelivered(
            f"the posted materials have not been delivered ({where}); receive them once the post delivers, or "
            "give the reason they were handed over otherwise (handover_reason)",
            waybills={w.number: w.status for w in posts})

    def track(self, number: str, flow: str, status: str, reason: str = "") -> tuple[Case, bool]:
        """The case after delivery told a waybill's status; whether the result's post was newly lost.

        A result waybill that came back or was lost while the result awaits delivery makes a delivery
        exception, which stands until a new post of the result or a hand-over with a reason."""
        posts = [w for w in self.waybills if w.number != number]
        case = replace(self, waybills=(*posts, Waybill(number, flow, status)))
        lost = flow == "result" and status in RESULT_LOST and self.status is S.RESULT_ISSUED and (
            self.delivery_exception is None or self.delivery_exception.waybill_number != number)
        if lost:
            case = replace(case, delivery_exception=DeliveryProblem(number, status, reason))
        return case, lost

    def with_waybill(self, number: str, flow: str = "") -> Case:
        """The case with a waybill attached (once); a new post of a lost result clears the exception."""
        if number in self.waybill_numbers:
            return self
        case = replace(self, waybill_numbers=(*self.waybill_numbers, number))
        if flow:
            case = replace(case, waybills=(*case.waybills, Waybill(number, flow)))
        if flow == "result" and self.delivery_exception is not None:
            case = replace(case, delivery_exception=None)
        return case


def joint_owners(owners: list[str], accepting: str) -> list[str]:
    """The owners of a joint case: the accepting locality handles its own part as an owner; a joint case
    has at least two parts (:class:`CaseRuleBroken` 422 otherwise)."""
    if len(owners) < 2:
        only = owners[0] if owners else "none"
        raise JointNeedsParts(
            f"joint handling needs the places of at least two localities; the applicant's places name only {only}"
            + (" (the accepting locality itself: a local case)" if owners == [accepting] else ""))
    return owners


class JointNeedsParts(CaseRuleBroken):
    """A joint case with fewer than two parts."""

    status, slug, title = 422, "joint-needs-parts", "Joint handling needs two parts"


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
