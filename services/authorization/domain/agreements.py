"""Cooperation agreements ("cloud contract signing") and the delegations that follow from them.

An agreement names its parties, what it covers (items and/or areas), which locality may accept for
which owner in which modes, its validity period and its text. Each party signs the agreement's
canonical form (RFC 8785); it becomes active only when every party has signed, and any party may
suspend or terminate it by a signed act. Delegations are deny-by-default: a locality may accept an
item for an owner only under an active, intact agreement that covers it, at that time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

import rfc8785


class AgreementStatus(StrEnum):
    """Where an agreement stands."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class AgreementError(ValueError):
    """A change the agreement's rules do not allow."""


RIGHTS: dict[str, str] = {
    "receive_accept": "收件受理权",
    "one_time_notice": "一次性告知权",
    "check_originals": "原件核验权",
    "deliver_result": "审批结果送达权",
}
"""The four rights the localities delegate to each other's windows (Yangtze Delta practice): receive and
accept; issue the one-time notice of what is missing; check the originals; deliver the decision."""


@dataclass(frozen=True)
class RightGrant:
    """One delegated right, for some of the agreement's items or areas (none named: all it covers)."""

    right: str
    items: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.right not in RIGHTS:
            raise AgreementError(f"unknown right {self.right!r}; one of {', '.join(RIGHTS)}")

    def covers(self, item: str, area: str | None) -> bool:
        """Whether the grant reaches the item (every item of the agreement when it names none)."""
        if not self.items and not self.areas:
            return True
        return item in self.items or (area is not None and area in self.areas)

    def as_dict(self) -> dict[str, Any]:
        """As drafted, stored and signed."""
        return {"right": self.right, "items": list(self.items), "areas": list(self.areas)}


@dataclass(frozen=True)
class Permission:
    """``acceptor`` may accept, for ``owner``, cases in ``modes``, holding the ``rights`` it names.

    ``rights`` None: an agreement drafted before the rights were named (issue 16), read as delegating all
    four for everything it covers, so that what its parties signed keeps its meaning and its signatures."""

    acceptor: str
    owner: str
    modes: tuple[str, ...]
    rights: tuple[RightGrant, ...] | None = None

    def grants(self, right: str, item: str, area: str | None) -> bool:
        """Whether the permission delegates ``right`` for the item."""
        if self.rights is None:
            return True
        return any(g.right == right and g.covers(item, area) for g in self.rights)

    def as_dict(self) -> dict[str, Any]:
        """As drafted, stored and signed (``rights`` only when named: older forms stay as they were)."""
        body: dict[str, Any] = {"acceptor": self.acceptor, "owner": self.owner, "modes": list(self.modes)}
        if self.rights is not None:
            body["rights"] = [g.as_dict() for g in self.rights]
        return body

    @classmethod
    def of(cls, data: dict[str, Any]) -> Permission:
        """A permission from its stored or drafted form."""
        rights = data.get("rights")
        return cls(str(data["acceptor"]), str(data["owner"]), tuple(data["modes"]),
                   None if rights is None else tuple(
                       RightGrant(str(g["right"]), tuple(g.get("items") or ()), tuple(g.get("areas") or ()))
                       for g in rights))


@dataclass(frozen=True)
class Signature:
    """One party's signature (a compact JWS made with that party's key) over the canonical form."""

    party: str
    kid: str
    jws: str
    signed_at: int


@dataclass(frozen=True)
class Act:
    """A signed act on an agreement: suspend, resume or terminate."""

    party: str
    kind: str
    reason: str
    kid: str
    jws: str
    at: int


@dataclass(frozen=True)
class Agreement:
    """A cooperation agreement between localities."""

    id: str
    title: str
    text: str
    parties: tuple[str, ...]
    items: tuple[str, ...]
    areas: tuple[str, ...]
    permissions: tuple[Permission, ...]
    valid_from: datetime
    valid_until: datetime
    drafted_by: str
    status: AgreementStatus = AgreementStatus.DRAFT
    signatures: tuple[Signature, ...] = ()
    acts: tuple[Act, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(set(self.parties)) != len(self.parties) or len(self.parties) < 2:
            raise AgreementError("an agreement has at least two distinct parties")
        if self.drafted_by not in self.parties:
            raise AgreementError("the drafting locality must be a party")
        if not self.items and not self.areas:
            raise AgreementError("an agreement covers at least one item or area")
        if self.valid_until <= self.valid_from:
            raise AgreementError("valid_until must be after valid_from")
        for p in self.permissions:
            if p.acceptor not in self.parties or p.owner not in self.parties:
                raise AgreementError(f"permission {p.acceptor}->{p.owner} names a locality that is not a party")
            if p.acceptor == p.owner:
                raise AgreementError("a permission is between two different localities")
            if not p.modes:
                raise AgreementError(f"permission {p.acceptor}->{p.owner} names no mode")
            for grant in p.rights or ():
                outside = [i for i in grant.items if i not in self.items] + \
                    [a for a in grant.areas if a not in self.areas]
                if outside:
                    raise AgreementError(f"right {grant.right} of {p.acceptor}->{p.owner} names "
                                         f"{', '.join(outside)}, which the agreement does not cover")

    @property
    def unsigned_parties(self) -> list[str]:
        """Parties that have not signed yet."""
        signed = {s.party for s in self.signatures}
        return [p for p in self.parties if p not in signed]

    def add_signature(self, signature: Signature) -> Agreement:
        """The agreement with one more party's signature; active once every party has signed."""
        if self.status is not AgreementStatus.DRAFT:
            raise AgreementError(f"agreement is {self.status}; only a draft is signed")
        if signature.party not in self.parties:
            raise AgreementError(f"{signature.party} is not a party to this agreement")
        if signature.party not in self.unsigned_parties:
            raise AgreementError(f"{signature.party} has signed already")
        signed = replace(self, signatures=(*self.signatures, signature))
        return replace(signed, status=AgreementStatus.ACTIVE) if not signed.unsigned_parties else signed

    def apply_act(self, act: Act) -> Agreement:
        """Suspend, resume or terminate by a party's signed act."""
        if act.party not in self.parties:
            raise AgreementError(f"{act.party} is not a party to this agreement")
        allowed = {
            "suspend": ({AgreementStatus.ACTIVE}, AgreementStatus.SUSPENDED),
            "resume": ({AgreementStatus.SUSPENDED}, AgreementStatus.ACTIVE),
            "terminate": ({AgreementStatus.DRAFT, AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED},
                          AgreementStatus.TERMINATED),
        }
        if act.kind not in allowed:
            raise AgreementError(f"unknown act {act.kind!r}")
        sources, target = allowed[act.kind]
        if self.status not in sources:
            raise AgreementError(f"cannot {act.kind} an agreement that is {self.status}")
        return replace(self, status=target, acts=(*self.acts, act))

    def covers(self, item: str, area: str | None) -> bool:
        """Whether the agreement covers the item (by code, or by its area)."""
        return item in self.items or (area is not None and area in self.areas)


def canonical_form(agreement: Agreement) -> bytes:
    """The RFC 8785 canonical JSON of what the parties sign (not the signatures or the status)."""
    body: dict[str, Any] = {
        "id": agreement.id,
        "title": agreement.title,
        "text": agreement.text,
        "parties": list(agreement.parties),
        "items": list(agreement.items),
        "areas": list(agreement.areas),
        "permissions": [p.as_dict() for p in agreement.permissions],
        # In UTC: the same instant drafted as +08:00 and read back from the database as +00:00
        # must give the same form, or no party could ever sign what it reviewed.
        "valid_from": agreement.valid_from.astimezone(UTC).isoformat(),
        "valid_until": agreement.valid_until.astimezone(UTC).isoformat(),
        "drafted_by": agreement.drafted_by,
    }
    return rfc8785.dumps(cast(Any, body))


def canonical_sha256(agreement: Agreement) -> str:
    """SHA-256 (hex) of the canonical form."""
    return hashlib.sha256(canonical_form(agreement)).hexdigest()


@dataclass(frozen=True)
class Decision:
    """The answer to "may X accept item I for Y in mode M at T?"."""

    allowed: bool
    reason: str
    agreement_id: str | None = None


def decide(
    agreements: list[tuple[Agreement, str | None]],
    acceptor: str,
    owner: str,
    item: str,
    area: str | None,
    mode: str,
    at: datetime,
    right: str = "receive_accept",
) -> Decision:
    """Deny by default; allow under the first active, intact agreement that covers the request and
    delegates ``right`` (one of :data:`RIGHTS`) for the item.

    Each agreement comes with the reason its signatures do not verify, or None when they do.
    """
    if acceptor == owner:
        return Decision(True, "a locality handles its own cases")
    reasons: list[str] = []
    for agreement, broken in agreements:
        if acceptor not in agreement.parties or owner not in agreement.parties:
            continue
        if not agreement.covers(item, area):
            reasons.append(f"{agreement.id} does not cover {item}")
            continue
        permission = next(
            (p for p in agreement.permissions if p.acceptor == acceptor and p.owner == owner), None
        )
        if permission is None:
            reasons.append(f"{agreement.id} does not let {acceptor} accept for {owner}")
            continue
        if mode not in permission.modes:
            reasons.append(f"{agreement.id} does not allow mode {mode} from {acceptor} for {owner}")
            continue
        if not permission.grants(right, item, area):
            reasons.append(f"{agreement.id} does not delegate {right} ({RIGHTS.get(right, right)}) "
                           f"to {acceptor} for {owner}'s {item}")
            continue
        if agreement.status is not AgreementStatus.ACTIVE:
            missing = ", ".join(agreement.unsigned_parties)
            detail = f" (waiting for {missing} to sign)" if agreement.status is AgreementStatus.DRAFT else ""
            reasons.append(f"{agreement.id} is {agreement.status}{detail}")
            continue
        if not agreement.valid_from <= at < agreement.valid_until:
            reasons.append(f"{agreement.id} is not valid at {at.isoformat()}")
            continue
        if broken is not None:
            reasons.append(f"{agreement.id} does not verify: {broken}")
            continue
        return Decision(True, f"{right} allowed by agreement {agreement.id}", agreement.id)
    if not reasons:
        return Decision(False, f"no agreement between {acceptor} and {owner}")
    return Decision(False, "; ".join(reasons))
