"""The request and response models of delivery's REST API (times RFC 3339 with an offset)."""


from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.delivery.domain import (
    Address,
    DeliverTo,
    Flow,
    ReceiptOutcome,
    Status,
    Waybill,
    mask_name,
    mask_phone,
)
from shared.api_types import Timestamp, TimestampIn

MAX_BATCH = 1000
"""Events in one carrier batch at most."""


class AddressIn(BaseModel):
    """A structured postal address."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["张三"])
    phone: str = Field(min_length=7, max_length=20, examples=["13812345678"])
    province: str = Field(min_length=1, max_length=20, examples=["江苏省"])
    city: str = Field(min_length=1, max_length=40, examples=["苏州市"])
    district: str = Field(min_length=1, max_length=40, examples=["虎丘区"])
    street: str = Field(min_length=1, max_length=200, examples=["狮山路 1 号"])
    postcode: str = Field(pattern=r"^\d{6}$", examples=["215011"])


class AddressView(BaseModel):
    """An address as shown: the phone masked (and a person's name)."""

    name: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    postcode: str

    @classmethod
    def of(cls, address: Address | None, person: bool = False) -> AddressView | None:
        """The masked view of an address."""
        if address is None:
            return None
        data = address.to_dict()
        data["phone"] = mask_phone(address.phone)
        if person:
            data["name"] = mask_name(address.name)
        return cls(**data)


class Contents(BaseModel):
    """What a waybill carries."""

    case_id: str
    material_hashes: list[str]
    document: str


class WaybillView(BaseModel):
    """A waybill with its tracking summary."""

    number: str
    case_id: str
    flow: Flow
    sender_locality: str
    receiver_locality: str
    status: Status
    carrier: str
    service: str
    carrier_number: str | None
    deliver_to: DeliverTo
    sender_address: AddressView | None
    receiver_address: AddressView | None
    contents: Contents
    target_hours: int
    status_code: str | None
    status_at: Timestamp | None
    posted_at: Timestamp | None
    delivered_at: Timestamp | None
    due_at: Timestamp | None
    attempts: int
    late: bool
    receipt: ReceiptOutcome | None

    @classmethod
    def of(cls, w: Waybill) -> WaybillView:
        """The view of a domain waybill."""
        return cls(
            number=w.number, case_id=w.case_id, flow=w.flow, sender_locality=w.sender_locality,
            receiver_locality=w.receiver_locality, status=w.status, carrier=w.carrier, service=w.service,
            carrier_number=w.carrier_number, deliver_to=w.deliver_to,
            sender_address=AddressView.of(w.sender_address),
            receiver_address=AddressView.of(w.receiver_address, person=w.deliver_to == "applicant"),
            contents=Contents(case_id=w.case_id, material_hashes=list(w.material_hashes), document=w.document),
            target_hours=w.target_hours, status_code=w.status_code, status_at=w.status_at, posted_at=w.posted_at,
            delivered_at=w.delivered_at, due_at=w.due_at, attempts=w.attempts, late=w.late, receipt=w.receipt,
        )


class TrackingEventView(BaseModel):
    """A carrier event of a waybill."""

    code: str
    meaning: str
    occurred_at: Timestamp
    received_at: Timestamp
    location: str
    reason: str
    action: str


class Readdress(BaseModel):
    """Where a result goes: the applicant's address, or the pickup window of the receiving locality."""

    model_config = ConfigDict(extra="forbid")

    deliver_to: Literal["applicant", "pickup_window"]
    address: AddressIn | None = None


class Receipt(BaseModel):
    """The receiving department's SHA-256 hashes of the materials it received."""

    model_config = ConfigDict(extra="forbid")

    material_hashes: list[str] = Field(max_length=100)


class ReceiptView(BaseModel):
    """The outcome of a receipt: confirmed, or a mismatch (an exception to both localities)."""

    outcome: ReceiptOutcome
    missing: list[str]
    unexpected: list[str]
    waybill: WaybillView


class CarrierEventIn(BaseModel):
    """One tracking event reported by a carrier (UPU EMSEVT)."""

    model_config = ConfigDict(extra="forbid")

    waybill_number: str = Field(min_length=1, max_length=32, description="S10 number, or the carrier's own.")
    code: str = Field(min_length=1, max_length=8, examples=["EMA"])
    occurred_at: TimestampIn = Field(description="When it happened (RFC 3339 with offset).")
    location: str = Field("", max_length=200)
    reason: str = Field("", max_length=200, description="EMH: the non-delivery reason.")
    action: str = Field("", max_length=32, description="EMH: redeliver, hold_for_pickup or return_to_sender.")
    event_id: str | None = Field(None, max_length=64, description="The carrier's own id of the event.")
    carrier_number: str | None = Field(None, max_length=32, description="The carrier's own number, to bind.")


class EventResult(BaseModel):
    """What became of one event: accepted, duplicate (already known), or refused with the reason."""

    index: int
    outcome: Literal["accepted", "duplicate", "refused"]
    waybill_number: str | None = None
    code: str | None = None
    reason: str | None = None
    status: str | None = None


class BatchResult(BaseModel):
    """The outcome of each event of a batch (HTTP 200 if none was refused, 207 otherwise)."""

    accepted: int
    duplicates: int
    refused: int
    results: list[EventResult]


class TargetView(BaseModel):
    """A delivery time target between two localities."""

    between: list[str]
    hours: int


class TargetsView(BaseModel):
    """The delivery time targets: one per pair of localities, and the default for any other pair."""

    default_hours: int
    pairs: list[TargetView]


class SimulationRequest(BaseModel):
    """Play a carrier journey for a waybill (embedded system only)."""

    model_config = ConfigDict(extra="forbid")

    waybill_number: str
    scenario: Literal["random", "delivered", "failed_attempt", "returned"] = "delivered"
    speed: float = Field(3600.0, gt=0, le=10_000_000, description="Simulated seconds per real second.")
    seed: int | None = None


class PlannedEvent(BaseModel):
    """One carrier event of a simulated journey, ``after_seconds`` (simulated) from its start."""

    after_seconds: float
    code: str
    location: str
    reason: str
    action: str


class SimulationView(BaseModel):
    """The journey being played."""

    waybill_number: str
    scenario: str
    events: list[PlannedEvent]


