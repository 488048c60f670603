"""Event handlers of the delivery service: routing's cases need waybills for materials and results."""

from __future__ import annotations

import logging

from services.delivery.reference import reference
from services.delivery.service import create_waybill
from services.delivery.store import CasePartiesRepository, WaybillRepository
from shared.consumer import EventHandler
from shared.contracts.routing import CaseForwarded, CaseStatusChanged, CaseSubmitted
from shared.envelope import Envelope
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.delivery")

RESULT_ISSUED = "result_issued"
NO_PAPER_MODES = frozenset({"fully_online"})
"""Modes whose result is delivered online: no result waybill."""


async def on_case_submitted(uow: UnitOfWork, _envelope: Envelope, event: CaseSubmitted) -> None:
    """Remember a case's localities and mode: a result waybill will need them."""
    await CasePartiesRepository(uow.session).remember(
        event.case_id, event.accepting_locality, list(event.owning_localities), mode=event.mode
    )


async def on_case_forwarded(uow: UnitOfWork, _envelope: Envelope, event: CaseForwarded) -> None:
    """Create the waybill that carries a forwarded case's materials (and their hashes) to the owner.

    Only when the materials travel by post (``by_post``, accepted here and handled there); one
    materials waybill per case.
    """
    await CasePartiesRepository(uow.session).remember(
        event.case_id, event.accepting_locality, [event.owning_locality], mode=event.mode,
        material_hashes=event.material_hashes,
    )
    if not event.by_post:
        return
    created = await create_waybill(
        uow, reference(), case_id=event.case_id, flow="materials", sender=event.accepting_locality,
        receiver=event.owning_locality, material_hashes=event.material_hashes,
    )
    if created is None:
        log.info("the case has a materials waybill already", extra={"case_id": event.case_id})


async def on_case_status_changed(uow: UnitOfWork, _envelope: Envelope, event: CaseStatusChanged) -> None:
    """A result issued by the owner travels back to the accepting locality (to a pickup window).

    Routing says whether the paper result goes by post (``result_by_post``); an event without that
    word decides by the case's mode (a fully online case's result is delivered online).
    """
    if event.to_status != RESULT_ISSUED or event.result_by_post is False:
        return
    parties = await CasePartiesRepository(uow.session).get(event.case_id)
    accepting = event.accepting_locality or (parties.accepting_locality if parties else None)
    if accepting is None:
        materials = [w for w in await WaybillRepository(uow.session).of_case(event.case_id) if w.flow == "materials"]
        accepting = materials[0].sender_locality if materials else None
    if accepting is None:
        log.warning("result issued for a case delivery never heard of", extra={"case_id": event.case_id})
        return
    mode = event.mode or (parties.mode if parties else None)
    if event.result_by_post is None and mode in NO_PAPER_MODES:
        return
    if accepting == event.by_locality:
        return
    await create_waybill(
        uow, reference(), case_id=event.case_id, flow="result", sender=event.by_locality, receiver=accepting,
        document="decision document (办理结果)",
    )


HANDLERS: dict[str, EventHandler] = {
    CaseSubmitted.ce_type(): on_case_submitted,
    CaseForwarded.ce_type(): on_case_forwarded,
    CaseStatusChanged.ce_type(): on_case_status_changed,
}
