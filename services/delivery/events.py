"""Event handlers of the delivery service: cases forwarded by routing need a waybill."""

from __future__ import annotations

from services.delivery.domain import Waybill
from services.delivery.store import WaybillRepository
from shared.consumer import EventHandler
from shared.contracts.delivery import WaybillCreated
from shared.contracts.routing import CaseForwarded
from shared.envelope import Envelope
from shared.uow import UnitOfWork


async def on_case_forwarded(uow: UnitOfWork, _envelope: Envelope, event: CaseForwarded) -> None:
    """Create the waybill that carries a forwarded case's materials to the owner."""
    waybills = WaybillRepository(uow.session)
    if any(w.flow == "materials" for w in await waybills.of_case(event.case_id)):
        return
    waybill = Waybill(
        number=await waybills.next_number(),
        case_id=event.case_id,
        flow="materials",
        sender_locality=event.accepting_locality,
        receiver_locality=event.owning_locality,
    )
    await waybills.add(waybill)
    uow.publish(
        WaybillCreated(
            waybill_number=waybill.number,
            case_id=waybill.case_id,
            flow=waybill.flow,
            sender_locality=waybill.sender_locality,
            receiver_locality=waybill.receiver_locality,
        ),
        [waybill.sender_locality, waybill.receiver_locality],
    )


HANDLERS: dict[str, EventHandler] = {CaseForwarded.ce_type(): on_case_forwarded}
