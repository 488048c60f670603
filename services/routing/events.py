"""Event handlers of the routing service: catalogue items, waybills from delivery."""

from __future__ import annotations

from services.routing.store import CaseRepository, KnownItemRepository
from shared.consumer import EventHandler
from shared.contracts.catalogue import ItemPublished, ItemWithdrawn
from shared.contracts.delivery import WaybillCreated
from shared.envelope import Envelope
from shared.uow import UnitOfWork


async def on_item_published(uow: UnitOfWork, _envelope: Envelope, event: ItemPublished) -> None:
    """Keep routing's copy of a published item."""
    await KnownItemRepository(uow.session).apply(
        event.code,
        event.revision,
        True,
        area=event.area,
        modes=list(event.modes),
        ownership_rule=event.ownership_rule,
        committed_days=event.committed_days,
    )


async def on_item_withdrawn(uow: UnitOfWork, _envelope: Envelope, event: ItemWithdrawn) -> None:
    """Stop accepting cases of a withdrawn item."""
    await KnownItemRepository(uow.session).apply(event.code, event.revision, False)


async def on_waybill_created(uow: UnitOfWork, _envelope: Envelope, event: WaybillCreated) -> None:
    """Attach the waybill of a case's materials or result to the case."""
    cases = CaseRepository(uow.session)
    case = await cases.get(event.case_id)
    if case is not None:
        await cases.update(case.with_waybill(event.waybill_number))


HANDLERS: dict[str, EventHandler] = {
    ItemPublished.ce_type(): on_item_published,
    ItemWithdrawn.ce_type(): on_item_withdrawn,
    WaybillCreated.ce_type(): on_waybill_created,
}
