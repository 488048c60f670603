"""Events of the delivery service."""

from __future__ import annotations

from typing import Literal

from shared.envelope import Event, event_type

Flow = Literal["materials", "result"]


@event_type
class WaybillCreated(Event):
    """A postal waybill was created for a case's materials or result."""

    type_name = "cn.tongban.delivery.waybill.created"

    waybill_number: str
    case_id: str
    flow: Flow
    sender_locality: str
    receiver_locality: str

    def subject(self) -> str:
        return self.case_id
