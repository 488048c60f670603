"""Events of the delivery service.

Every event names the case and both localities and goes to the topics of the sender's and the
receiver's localities; its subject (the record key) is the case id, so a case's events stay in order.
Statuses: created, posted, in_transit, at_delivery_office, delivery_attempted, delivered, returned,
exception.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.envelope import Event, event_type

Flow = Literal["materials", "result"]
WaybillStatus = Literal[
    "created", "posted", "in_transit", "at_delivery_office", "delivery_attempted", "delivered", "returned",
    "exception",
]


@event_type
class WaybillCreated(Event):
    """A postal waybill was created for a case's materials or result."""

    type_name = "cn.tongban.delivery.waybill.created"

    waybill_number: str
    case_id: str
    flow: Flow
    sender_locality: str
    receiver_locality: str
    carrier: str | None = None
    deliver_to: Literal["department", "pickup_window", "applicant"] | None = None
    target_hours: int | None = Field(None, ge=1)

    def subject(self) -> str:
        return self.case_id


@event_type
class WaybillStatusChanged(Event):
    """A waybill's status changed: its carrier events (by event time) or its receipt say so.

    Routing moves a case on these: materials ``delivered`` (forwarded → received), result
    ``delivered`` (result issued → result delivered).
    """

    type_name = "cn.tongban.delivery.waybill.status_changed"

    waybill_number: str
    case_id: str
    flow: Flow
    sender_locality: str
    receiver_locality: str
    from_status: WaybillStatus
    to_status: WaybillStatus
    code: str | None = None
    """The EMSEVT code of the event that decided the status (none for a receipt)."""
    occurred_at: datetime | None = None
    """When that event happened (carrier time)."""
    reason: str | None = None
    """Non-delivery reason of an unsuccessful delivery, or the receipt's finding."""

    def subject(self) -> str:
        return self.case_id


@event_type
class ReceiptConfirmed(Event):
    """The receiving department confirmed the materials: their hashes match those attested."""

    type_name = "cn.tongban.delivery.receipt.confirmed"

    waybill_number: str
    case_id: str
    sender_locality: str
    receiver_locality: str
    material_count: int = Field(ge=0)
    confirmed_at: datetime

    def subject(self) -> str:
        return self.case_id


@event_type
class ReceiptMismatch(Event):
    """The materials received do not match those attested at acceptance: an exception."""

    type_name = "cn.tongban.delivery.receipt.mismatch"

    waybill_number: str
    case_id: str
    sender_locality: str
    receiver_locality: str
    missing: list[str] = Field(default_factory=list)
    """Hashes attested at acceptance but not received."""
    unexpected: list[str] = Field(default_factory=list)
    """Hashes received but never attested."""
    reported_at: datetime

    def subject(self) -> str:
        return self.case_id


@event_type
class DeliveryLate(Event):
    """A waybill missed the delivery time target of its pair of localities."""

    type_name = "cn.tongban.delivery.waybill.late"

    waybill_number: str
    case_id: str
    flow: Flow
    sender_locality: str
    receiver_locality: str
    target_hours: int = Field(ge=1)
    posted_at: datetime
    due_at: datetime
    delivered_at: datetime | None = None
    """None while the item is still on its way."""

    def subject(self) -> str:
        return self.case_id
