"""Waybills: a case's posts, their tracking, the receiver, the receipt; the delivery targets."""


from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.delivery.api.common import (
    Officer,
    Reader,
    Staff,
    Uow,
    party_waybill,
)
from services.delivery.api.schemas import (
    Readdress,
    Receipt,
    ReceiptView,
    TargetsView,
    TargetView,
    TrackingEventView,
    WaybillView,
)
from services.delivery.domain import (
    EMSEVT,
    Address,
    DeliverTo,
    InvalidAddress,
    is_sha256_hex,
    validate_address,
)
from services.delivery.reference import reference
from services.delivery.service import (
    NotReaddressable,
    confirm_receipt,
    readdress,
)
from services.delivery.store import WaybillRepository, utc
from shared.problems import Conflict, Forbidden, Problem

router = APIRouter(prefix="/v1/waybills", tags=["waybills"])
targets_router = APIRouter(prefix="/v1/delivery-targets", tags=["waybills"])


@router.get("", summary="The waybills of a case")
async def list_waybills(
    uow: Uow, caller: Reader, case_id: Annotated[str, Query(min_length=1, max_length=36)]
) -> list[WaybillView]:
    async with uow:
        found = await WaybillRepository(uow.session).of_case(case_id)
    return [WaybillView.of(w) for w in found if w.involves(caller.locality)]


@router.get("/{number}", summary="One waybill")
async def get_waybill(number: str, uow: Uow, caller: Reader) -> WaybillView:
    async with uow:
        waybill = await party_waybill(uow, number, caller)
    return WaybillView.of(waybill)


@router.get("/{number}/events", summary="A waybill's carrier events, by event time")
async def waybill_events(number: str, uow: Uow, caller: Reader) -> list[TrackingEventView]:
    async with uow:
        await party_waybill(uow, number, caller)
        rows = await WaybillRepository(uow.session).event_rows(number)
    return [
        TrackingEventView(code=r.code, meaning=EMSEVT[r.code][0], occurred_at=utc(r.occurred_at),
                          received_at=utc(r.received_at), location=r.location, reason=r.reason, action=r.action)
        for r in rows
    ]


@router.put("/{number}/receiver", summary="Send a result to the applicant, or to the pickup window")
async def set_receiver(number: str, body: Readdress, uow: Uow, caller: Staff) -> WaybillView:
    address: Address | None = None
    if body.deliver_to == "applicant":
        if body.address is None:
            raise Problem("an address is needed to send the result to the applicant", status=422,
                          slug="address-required", title="Address required")
        try:
            address = validate_address(Address(**body.address.model_dump()))
        except InvalidAddress as exc:
            raise Problem(str(exc), status=422, slug="invalid-address", title="Invalid address",
                          field=f"address.{exc.field}") from exc
    async with uow:
        waybill = await party_waybill(uow, number, caller, lock=True)
        deliver_to: DeliverTo = body.deliver_to
        try:
            updated = await readdress(uow, reference(), waybill, deliver_to, address)
        except NotReaddressable as exc:
            raise Conflict(str(exc), slug="not-readdressable", title="Receiver cannot change") from exc
        await uow.commit()
    return WaybillView.of(updated)


@router.post("/{number}/receipt", summary="Confirm the materials received (their SHA-256 hashes)")
async def receipt(number: str, body: Receipt, uow: Uow, caller: Officer) -> ReceiptView:
    bad = [h for h in body.material_hashes if not is_sha256_hex(h.strip())]
    if bad:
        raise Problem(f"not SHA-256 hex digests: {', '.join(b[:80] for b in bad[:5])}", status=422,
                      slug="invalid-hash", title="Invalid hash")
    async with uow:
        waybill = await party_waybill(uow, number, caller, lock=True)
        if waybill.flow != "materials":
            raise Conflict("only the materials of a case are receipted", slug="not-materials",
                           title="Not a materials waybill")
        if caller.locality != waybill.receiver_locality:
            raise Forbidden("only the receiving locality confirms the materials")
        if waybill.status == "returned":
            raise Conflict("the materials were returned to the sender", slug="returned", title="Returned")
        check, updated = await confirm_receipt(uow, waybill, body.material_hashes, datetime.now(UTC))
        await uow.commit()
    return ReceiptView(outcome=check.outcome, missing=list(check.missing), unexpected=list(check.unexpected),
                       waybill=WaybillView.of(updated))


@targets_router.get("", summary="Delivery time targets per pair of localities")
async def delivery_targets(_caller: Reader) -> TargetsView:
    targets = reference().targets
    return TargetsView(default_hours=targets.default_hours,
                       pairs=[TargetView(between=list(p), hours=h) for p, h in sorted(targets.hours.items())])


