"""Event handlers of the routing service: catalogue items, waybills and receipts from delivery."""

from __future__ import annotations

import logging

from services.routing.deadlines import CalendarKeeper
from services.routing.service import transition
from services.routing.store import CaseRepository, to_case
from services.routing.store_reference import KnownItemRepository
from shared.consumer import EventHandler
from shared.contracts.catalogue import ItemPublished, ItemWithdrawn
from shared.contracts.delivery import ReceiptConfirmed, WaybillCreated, WaybillStatusChanged
from shared.contracts.routing import CaseDeliveryException
from shared.envelope import Envelope
from shared.masking import mask_text
from shared.problems import Problem
from shared.service import ServiceContext
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.routing")


async def on_item_published(uow: UnitOfWork, _envelope: Envelope, event: ItemPublished) -> None:
    """Keep routing's copy of a published item."""
    await KnownItemRepository(uow.session).apply(
        event.code, event.revision, True, area=event.area, name_zh=event.name_zh, modes=list(event.modes),
        ownership_rule=event.ownership_rule, committed_days=event.committed_days,
        days_by_locality=dict(event.committed_days_by_locality),
        materials_by_locality={loc: [m.model_dump() for m in ms] for loc, ms in event.materials_by_locality.items()},
        national_code=event.national_code, implementation_codes=dict(event.implementation_codes_by_locality),
        licence_types=[t.model_dump() for t in event.licence_types],
    )


async def on_item_withdrawn(uow: UnitOfWork, _envelope: Envelope, event: ItemWithdrawn) -> None:
    """Stop accepting cases of a withdrawn item."""
    await KnownItemRepository(uow.session).apply(event.code, event.revision, False)


async def on_waybill_created(uow: UnitOfWork, _envelope: Envelope, event: WaybillCreated) -> None:
    """Attach the waybill of a case's materials or result to the case (a new post of a lost result ends its
    delivery exception)."""
    row = await CaseRepository(uow.session).row(event.case_id, for_update=True)
    if row is not None and event.waybill_number not in row.waybill_numbers:
        CaseRepository.write(row, to_case(row).with_waybill(event.waybill_number, event.flow))


async def _move(uow: UnitOfWork, ctx: ServiceContext, case_id: str, action: str, locality: str,
                detail: dict[str, object]) -> None:
    """Move a case on another service's word; a case already past that step stays as it is."""
    keeper: CalendarKeeper = ctx.state["calendar"]
    case = await CaseRepository(uow.session).get(case_id)
    if case is None or action not in case.allowed_actions(locality):
        log.info("event does not move the case", extra={"case_id": case_id, "action": action})
        return
    try:
        await transition(uow, None, case_id, action, locality, detail, keeper, None)
    except Problem as exc:
        log.warning("event could not move the case", extra={"case_id": case_id, "reason": exc.detail})


async def on_receipt_confirmed(uow: UnitOfWork, _envelope: Envelope, event: ReceiptConfirmed,
                               ctx: ServiceContext) -> None:
    """The owner's department confirmed the posted materials: the case is received."""
    await _move(uow, ctx, event.case_id, "receive", event.receiver_locality, {"waybill_number": event.waybill_number})


async def on_waybill_status(uow: UnitOfWork, _envelope: Envelope, event: WaybillStatusChanged,
                            ctx: ServiceContext) -> None:
    """Follow a post: the materials' delivery lets the owner receive them; the result's delivery delivers the
    case's result; a result that came back or was lost is a delivery exception, told to both localities."""
    row = await CaseRepository(uow.session).row(event.case_id, for_update=True)
    if row is None:
        return
    case, lost = to_case(row).track(event.waybill_number, event.flow, event.to_status, mask_text(event.reason or ""))
    CaseRepository.write(row, case)
    if lost:
        uow.publish(CaseDeliveryException(case_id=case.id, waybill_number=event.waybill_number,
                                          waybill_status=event.to_status,  # type: ignore[arg-type]
                                          reason=mask_text(event.reason or ""),
                                          accepting_locality=case.accepting_locality, owners=list(case.owners)),
                    case.involved)
    if event.flow == "result" and event.to_status == "delivered":
        await _move(uow, ctx, event.case_id, "deliver_result", event.sender_locality,
                    {"waybill_number": event.waybill_number})


HANDLERS: dict[str, EventHandler] = {
    ItemPublished.ce_type(): on_item_published,
    ItemWithdrawn.ce_type(): on_item_withdrawn,
    WaybillCreated.ce_type(): on_waybill_created,
    ReceiptConfirmed.ce_type(): on_receipt_confirmed,
    WaybillStatusChanged.ce_type(): on_waybill_status,
}
