"""Rules of postal delivery. Pure: no I/O.

UPU S10 tracking numbers; structured addresses, postcodes and masked phones; carrier tracking
events (UPU EMSEVT codes) and the waybill status they lead to, by event time; the HMAC signature of
carrier requests; receipts (material hashes) and the late-delivery rule.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from services.delivery.domain.postal import (  # noqa: F401 - re-exported by the package
    EMS_SERVICE_INDICATOR,
    POSTCODE_PREFIXES,
    Address,
    Carrier,
    InvalidAddress,
    is_s10,
    mask_name,
    mask_phone,
    s10_check_digit,
    s10_number,
    s10_problem,
    tracking_number_problem,
    validate_address,
)

# --------------------------------------------------------------------------- tracking events


class Status(StrEnum):
    """Where a waybill stands, derived from its carrier events (and its receipt)."""

    CREATED = "created"
    POSTED = "posted"
    IN_TRANSIT = "in_transit"
    AT_DELIVERY_OFFICE = "at_delivery_office"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    DELIVERED = "delivered"
    RETURNED = "returned"
    EXCEPTION = "exception"


EMSEVT: dict[str, tuple[str, Status]] = {
    "EMA": ("posting / collection", Status.POSTED),
    "EMB": ("arrival at outward office of exchange", Status.IN_TRANSIT),
    "EMC": ("departure from outward office of exchange", Status.IN_TRANSIT),
    "EMD": ("arrival at inward office of exchange", Status.IN_TRANSIT),
    "EME": ("held by customs", Status.IN_TRANSIT),
    "EMF": ("departure from inward office of exchange", Status.IN_TRANSIT),
    "EMJ": ("arrival at transit office", Status.IN_TRANSIT),
    "EMK": ("departure from transit office", Status.IN_TRANSIT),
    "EDA": ("held at inward office of exchange", Status.IN_TRANSIT),
    "EDB": ("presented to import customs", Status.IN_TRANSIT),
    "EDC": ("returned from customs", Status.IN_TRANSIT),
    "EDD": ("into sorting centre", Status.IN_TRANSIT),
    "EDE": ("out of sorting centre", Status.IN_TRANSIT),
    "EMG": ("arrival at delivery office", Status.AT_DELIVERY_OFFICE),
    "EDF": ("held at delivery office", Status.AT_DELIVERY_OFFICE),
    "EDG": ("out for delivery", Status.AT_DELIVERY_OFFICE),
    "EDH": ("arrival at collection point for pick-up", Status.AT_DELIVERY_OFFICE),
    "EMH": ("unsuccessful (attempted) delivery", Status.DELIVERY_ATTEMPTED),
    "EMI": ("final delivery", Status.DELIVERED),
    "EDX": ("terminated", Status.EXCEPTION),
}
"""UPU EMSEVT event codes: meaning and the status they lead to."""

_RANK: dict[Status, int] = {
    Status.POSTED: 0,
    Status.IN_TRANSIT: 1,
    Status.AT_DELIVERY_OFFICE: 2,
    Status.DELIVERY_ATTEMPTED: 3,
    Status.DELIVERED: 4,
    Status.EXCEPTION: 5,
}
"""Order of codes that carry the same event time (a posting and a delivery in one second)."""

EMH_ACTIONS = ("redeliver", "hold_for_pickup", "return_to_sender")
"""What the carrier does after an unsuccessful delivery (EMH)."""
RETURN_TO_SENDER = "return_to_sender"
MAX_FUTURE = timedelta(minutes=5)
"""How far into the future an event may be dated (carrier clocks run a little fast)."""


@dataclass(frozen=True)
class TrackingEvent:
    """One carrier event of one waybill."""

    code: str
    occurred_at: datetime
    location: str = ""
    reason: str = ""
    """Non-delivery reason of an EMH event."""
    action: str = ""
    """Action taken after an EMH event (one of :data:`EMH_ACTIONS`)."""

    def key(self) -> tuple[str, datetime]:
        """What makes two reports the same event: its code and its time."""
        return self.code, self.occurred_at

    def sort_key(self) -> tuple[datetime, int, str]:
        """Event time first; on a tie, the logical order of the codes."""
        return self.occurred_at, _RANK[EMSEVT[self.code][1]], self.code


class InvalidEvent(ValueError):
    """A carrier event refused, with the reason."""


def check_event(event: TrackingEvent, now: datetime) -> TrackingEvent:
    """The event if acceptable; :class:`InvalidEvent` with the reason otherwise."""
    if event.code not in EMSEVT:
        raise InvalidEvent(f"unknown EMSEVT code {event.code!r}")
    if event.occurred_at.tzinfo is None:
        raise InvalidEvent("occurred_at needs a time zone offset")
    if event.occurred_at > now + MAX_FUTURE:
        raise InvalidEvent("occurred_at lies in the future")
    if event.code == "EMH":
        if not event.reason.strip():
            raise InvalidEvent("an EMH event needs its non-delivery reason")
        if event.action and event.action not in EMH_ACTIONS:
            raise InvalidEvent(f"unknown EMH action {event.action!r}; one of {', '.join(EMH_ACTIONS)}")
    elif event.action:
        raise InvalidEvent("only EMH events carry an action")
    return event


@dataclass(frozen=True)
class Tracking:
    """What a waybill's events say: status, when it was reached, posting and delivery times."""

    status: Status
    status_at: datetime | None
    code: str | None
    """The code of the event that decided the status."""
    posted_at: datetime | None
    delivered_at: datetime | None
    attempts: int
    reason: str = ""


def derive_tracking(events: Iterable[TrackingEvent]) -> Tracking:
    """The status that a waybill's events lead to, by event time, whatever their arrival order.

    Duplicates (same code and time) count once. After an EMH whose action is ``return_to_sender``
    the item is on its way back: it stays ``returned`` (an EDX still makes it an ``exception``).
    """
    unique = {e.key(): e for e in events}
    ordered = sorted(unique.values(), key=TrackingEvent.sort_key)
    status, status_at, code, reason = Status.CREATED, None, None, ""
    posted_at = delivered_at = None
    attempts = 0
    returning = False
    for event in ordered:
        mapped = EMSEVT[event.code][1]
        if event.code == "EMA" and posted_at is None:
            posted_at = event.occurred_at
        if event.code == "EMH":
            attempts += 1
            reason = event.reason
            if event.action == RETURN_TO_SENDER:
                returning = True
        if event.code == "EMI" and not returning and delivered_at is None:
            delivered_at = event.occurred_at
        if mapped is Status.EXCEPTION:
            status = Status.EXCEPTION
        elif returning:
            status = Status.RETURNED
        else:
            status = mapped
        status_at, code = event.occurred_at, event.code
    return Tracking(status, status_at, code, posted_at, delivered_at, attempts, reason)


# --------------------------------------------------------------------------- receipts


ReceiptOutcome = Literal["confirmed", "mismatch"]


@dataclass(frozen=True)
class ReceiptCheck:
    """The comparison of the materials received with those attested at acceptance."""

    missing: tuple[str, ...]
    """Attested but not received."""
    unexpected: tuple[str, ...]
    """Received but never attested."""

    @property
    def outcome(self) -> ReceiptOutcome:
        """``confirmed`` when both sides match exactly, ``mismatch`` otherwise."""
        return "mismatch" if self.missing or self.unexpected else "confirmed"


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_sha256_hex(value: str) -> bool:
    """Whether ``value`` is a SHA-256 digest in hexadecimal."""
    return bool(_SHA256.match(value.lower()))


def check_receipt(attested: Iterable[str], received: Iterable[str]) -> ReceiptCheck:
    """Compare the hashes attested when the case was forwarded with those the receiver computed."""
    expected = sorted({h.strip().lower() for h in attested})
    got = sorted({h.strip().lower() for h in received})
    return ReceiptCheck(
        missing=tuple(h for h in expected if h not in got),
        unexpected=tuple(h for h in got if h not in expected),
    )


def effective_status(tracking: Status, receipt: str | None) -> Status:
    """The status shown: the carrier's, unless the receipt found a mismatch (an exception)."""
    return Status.EXCEPTION if receipt == "mismatch" else tracking


# --------------------------------------------------------------------------- delivery targets


def pair(a: str, b: str) -> tuple[str, str]:
    """A pair of localities, in either direction."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class DeliveryTargets:
    """Delivery time targets in hours per pair of localities (the same both ways)."""

    hours: Mapping[tuple[str, str], int]
    default_hours: int = 72

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryTargets:
        """Targets from ``{"default_hours": 72, "pairs": [{"between": [a, b], "hours": 24}, ...]}``."""
        hours = {pair(*p["between"]): int(p["hours"]) for p in data.get("pairs", [])}
        return cls(hours, int(data.get("default_hours", 72)))

    def target(self, sender: str, receiver: str) -> int:
        """The target of a waybill from ``sender`` to ``receiver``, in hours."""
        return self.hours.get(pair(sender, receiver), self.default_hours)


def due_at(posted_at: datetime, target_hours: int) -> datetime:
    """When an item posted at ``posted_at`` should be delivered."""
    return posted_at + timedelta(hours=target_hours)


def is_late(tracking: Tracking, target_hours: int, now: datetime) -> bool:
    """Whether delivery missed its target: delivered after the due time, or still on its way past it.

    Nothing posted yet has no due time; a returned item or an exception is not judged late.
    """
    if tracking.posted_at is None:
        return False
    due = due_at(tracking.posted_at, target_hours)
    if tracking.delivered_at is not None:
        return tracking.delivered_at > due
    if tracking.status in (Status.RETURNED, Status.EXCEPTION):
        return False
    return now > due


# --------------------------------------------------------------------------- carrier signatures

SIGNATURE_MAX_AGE = 300
"""Seconds a signed carrier request stays valid, either side of the server's clock."""
SIGNATURE_PREFIX = "sha256="


class BadSignature(ValueError):
    """A carrier request whose signature or timestamp does not verify."""


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value of a carrier request: HMAC-SHA256 over ``<timestamp>.<body>``."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: bytes, timestamp: str | None, signature: str | None, body: bytes, now: float,
    max_age: int = SIGNATURE_MAX_AGE,
) -> None:
    """Check a carrier request's timestamp (Unix seconds) and signature; :class:`BadSignature` if wrong."""
    if not timestamp or not signature:
        raise BadSignature("the X-Tongban-Timestamp and X-Tongban-Signature headers are required")
    # ASCII digits only: str.isdigit() also takes "²" and other digits that int() refuses.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise BadSignature("X-Tongban-Timestamp must be Unix seconds")
    if abs(now - int(timestamp)) > max_age:
        raise BadSignature(f"stale timestamp: more than {max_age} s from the server's clock")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode()):
        raise BadSignature("signature does not match the body")


# --------------------------------------------------------------------------- waybills


Flow = Literal["materials", "result"]
DeliverTo = Literal["department", "pickup_window", "applicant"]


@dataclass(frozen=True)
class Waybill:
    """A postal consignment of a case's materials (window to owner) or result (owner to applicant)."""

    number: str
    case_id: str
    flow: Flow
    sender_locality: str
    receiver_locality: str
    status: str = "created"
    carrier: str = "ems"
    service: str = "EMS"
    deliver_to: DeliverTo = "department"
    sender_address: Address | None = None
    receiver_address: Address | None = None
    material_hashes: tuple[str, ...] = ()
    """Materials flow: the hashes attested at acceptance."""
    document: str = ""
    """Result flow: what the consignment holds."""
    target_hours: int = 72
    carrier_number: str | None = None
    receipt: str | None = None
    """``confirmed`` or ``mismatch`` once the receiving department checked the materials."""
    late: bool = False
    status_code: str | None = None
    status_at: datetime | None = None
    posted_at: datetime | None = None
    delivered_at: datetime | None = None
    due_at: datetime | None = None
    attempts: int = 0
    created_at: datetime | None = None

    def involves(self, locality: str) -> bool:
        """Whether ``locality`` sends or receives this waybill."""
        return locality in (self.sender_locality, self.receiver_locality)

    @property
    def localities(self) -> list[str]:
        """The localities whose topics hear of this waybill."""
        return list(dict.fromkeys([self.sender_locality, self.receiver_locality]))
