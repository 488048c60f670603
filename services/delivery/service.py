"""Use cases of the delivery service: waybills, carrier events, receipts, late deliveries.

Each runs inside a unit of work of the caller (a route or an event handler), which commits the
state change and the events together.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from services.delivery.domain import (
    Address,
    Carrier,
    DeliverTo,
    Flow,
    InvalidEvent,
    ReceiptCheck,
    Status,
    TrackingEvent,
    Waybill,
    check_event,
    check_receipt,
    derive_tracking,
    due_at,
    effective_status,
    is_late,
    is_s10,
    tracking_number_problem,
)
from services.delivery.reference import Reference
from services.delivery.store import WaybillRepository, utc
from shared.contracts.delivery import (
    DeliveryLate,
    ReceiptConfirmed,
    ReceiptMismatch,
    WaybillCreated,
    WaybillStatusChanged,
)
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.delivery")


# --------------------------------------------------------------------------- waybills


async def create_waybill(
    uow: UnitOfWork,
    ref: Reference,
    *,
    case_id: str,
    flow: Flow,
    sender: str,
    receiver: str,
    material_hashes: Sequence[str] = (),
    document: str = "",
) -> Waybill | None:
    """Issue the waybill of a case's materials or result (once per case and flow) and announce it.

    Materials go from the accepting window to the owner's department; a result from the owner's
    department to the accepting locality's window, where the applicant picks it up unless a home
    address is set before posting.
    """
    waybills = WaybillRepository(uow.session)
    if any(w.flow == flow for w in await waybills.of_case(case_id)):
        return None
    deliver_to: DeliverTo = "department" if flow == "materials" else "pickup_window"
    sender_kind, receiver_kind = ("window", "department") if flow == "materials" else ("department", "window")
    waybill = Waybill(
        number=await waybills.next_number(),
        case_id=case_id,
        flow=flow,
        sender_locality=sender,
        receiver_locality=receiver,
        carrier=ref.default_carrier,
        deliver_to=deliver_to,
        sender_address=ref.office(sender, sender_kind),
        receiver_address=ref.office(receiver, receiver_kind),
        material_hashes=tuple(h.strip().lower() for h in material_hashes),
        document=document,
        target_hours=ref.targets.target(sender, receiver),
    )
    await waybills.add(waybill)
    uow.publish(
        WaybillCreated(
            waybill_number=waybill.number,
            case_id=waybill.case_id,
            flow=waybill.flow,
            sender_locality=waybill.sender_locality,
            receiver_locality=waybill.receiver_locality,
            carrier=waybill.carrier,
            deliver_to=waybill.deliver_to,
            target_hours=waybill.target_hours,
        ),
        waybill.localities,
    )
    return waybill


class NotReaddressable(ValueError):
    """A waybill whose receiver cannot change any more (already posted, or not a result)."""


async def readdress(
    uow: UnitOfWork, ref: Reference, waybill: Waybill, deliver_to: DeliverTo, address: Address | None
) -> Waybill:
    """Send a result to the applicant's address, or back to the pickup window, before posting."""
    if waybill.flow != "result":
        raise NotReaddressable("only a result's waybill can be sent to the applicant")
    if waybill.status != Status.CREATED:
        raise NotReaddressable(f"the waybill is {waybill.status} already; its receiver cannot change")
    if deliver_to == "pickup_window":
        address = ref.office(waybill.receiver_locality, "window")
    if address is None:
        raise NotReaddressable("no address to send to")
    await WaybillRepository(uow.session).set_receiver(waybill.number, deliver_to, address)
    return replace(waybill, deliver_to=deliver_to, receiver_address=address)


async def refresh(uow: UnitOfWork, waybill: Waybill, now: datetime) -> Waybill:
    """Derive the waybill's status again from all its events; announce a change and a late delivery."""
    waybills = WaybillRepository(uow.session)
    tracking = derive_tracking(await waybills.events(waybill.number))
    status = effective_status(tracking.status, waybill.receipt)
    due = due_at(tracking.posted_at, waybill.target_hours) if tracking.posted_at else None
    await waybills.save_tracking(waybill.number, status.value, tracking, due, now)
    if status != waybill.status:
        reason = None
        if status == Status.DELIVERY_ATTEMPTED:
            reason = tracking.reason
        elif status == Status.EXCEPTION and waybill.receipt == "mismatch":
            reason = "materials received do not match those attested at acceptance"
        uow.publish(
            WaybillStatusChanged(
                waybill_number=waybill.number,
                case_id=waybill.case_id,
                flow=waybill.flow,
                sender_locality=waybill.sender_locality,
                receiver_locality=waybill.receiver_locality,
                from_status=waybill.status,  # type: ignore[arg-type]
                to_status=status.value,
                code=tracking.code if waybill.receipt != "mismatch" else None,
                occurred_at=tracking.status_at,
                reason=reason,
            ),
            waybill.localities,
        )
    late = waybill.late
    if not late and tracking.posted_at is not None and is_late(tracking, waybill.target_hours, now):
        late = True
        await waybills.flag_late(waybill.number, now)
        uow.publish(
            DeliveryLate(
                waybill_number=waybill.number,
                case_id=waybill.case_id,
                flow=waybill.flow,
                sender_locality=waybill.sender_locality,
                receiver_locality=waybill.receiver_locality,
                target_hours=waybill.target_hours,
                posted_at=tracking.posted_at,
                due_at=due_at(tracking.posted_at, waybill.target_hours),
                delivered_at=tracking.delivered_at,
            ),
            waybill.localities,
        )
    return replace(
        waybill, status=status.value, late=late, status_code=tracking.code, status_at=tracking.status_at,
        posted_at=tracking.posted_at, delivered_at=tracking.delivered_at, due_at=due, attempts=tracking.attempts,
    )


# --------------------------------------------------------------------------- carrier events


@dataclass(frozen=True)
class CarrierReport:
    """One event of a carrier's batch, as the carrier sent it (shape already checked)."""

    index: int
    waybill_number: str
    code: str
    occurred_at: datetime
    location: str = ""
    reason: str = ""
    action: str = ""
    event_id: str | None = None
    carrier_number: str | None = None


Outcome = Literal["accepted", "duplicate", "refused"]


@dataclass
class EventOutcome:
    """What became of one event of a batch."""

    index: int
    outcome: Outcome
    waybill_number: str | None = None
    code: str | None = None
    reason: str | None = None
    status: str | None = None
    """The waybill's status after the whole batch."""


async def apply_carrier_events(
    uow: UnitOfWork, carrier: Carrier, locality: str, reports: Sequence[CarrierReport], now: datetime
) -> list[EventOutcome]:
    """Record a batch of a carrier's events; each is accepted, a duplicate, or refused with its reason.

    ``locality`` is the carrier client's locality: it reports only on waybills that locality sends or
    receives (others are unknown to it). Waybills are locked in a fixed order, so concurrent batches
    cannot deadlock, and their status is derived again from all their events, by event time.
    """
    waybills = WaybillRepository(uow.session)
    outcomes: list[EventOutcome] = []
    resolved: list[tuple[CarrierReport, str, TrackingEvent]] = []
    for report in reports:
        outcome = EventOutcome(report.index, "refused", report.waybill_number, report.code)
        outcomes.append(outcome)
        problem = tracking_number_problem(report.waybill_number, carrier)
        if problem:
            outcome.reason = problem
            continue
        number: str | None = report.waybill_number
        if not is_s10(report.waybill_number):
            number = await waybills.number_of_carrier_number(carrier.code, report.waybill_number)
        try:
            event = check_event(
                TrackingEvent(report.code, report.occurred_at, report.location, report.reason, report.action), now
            )
        except InvalidEvent as exc:
            outcome.reason = str(exc)
            continue
        if number is None:
            outcome.reason = f"unknown waybill {report.waybill_number}"
            continue
        outcome.waybill_number = number
        resolved.append((report, number, event))
    locked: dict[str, Waybill] = {}
    for number in sorted({n for _r, n, _e in resolved}):
        waybill = await waybills.get_for_update(number)
        if waybill is not None and waybill.involves(locality):
            locked[number] = waybill
    touched: set[str] = set()
    by_index = {o.index: o for o in outcomes}
    for report, number, event in resolved:
        outcome = by_index[report.index]
        waybill = locked.get(number)
        if waybill is None:
            outcome.reason = f"unknown waybill {report.waybill_number}"
            continue
        if waybill.carrier != carrier.code:
            outcome.reason = f"waybill {number} is carried by {waybill.carrier}, not {carrier.code}"
            continue
        if report.carrier_number:
            bound = await bind_carrier_number(waybills, carrier, waybill, report.carrier_number)
            if bound is not None:
                outcome.reason = bound
                continue
            locked[number] = replace(waybill, carrier_number=report.carrier_number)
        if await waybills.add_event(number, carrier.code, event, report.event_id, now):
            outcome.outcome = "accepted"
            touched.add(number)
        else:
            outcome.outcome = "duplicate"
    for number in sorted(touched):
        locked[number] = await refresh(uow, locked[number], now)
    for outcome in outcomes:
        if outcome.outcome != "refused" and outcome.waybill_number in locked:
            outcome.status = locked[outcome.waybill_number].status
    return outcomes


async def bind_carrier_number(
    waybills: WaybillRepository, carrier: Carrier, waybill: Waybill, carrier_number: str
) -> str | None:
    """Remember the carrier's own number of a waybill; the reason when it cannot be, else None."""
    if waybill.carrier_number == carrier_number:
        return None
    if not carrier.accepts_own_number(carrier_number):
        return f"{carrier_number} is not in the numbering of carrier {carrier.code}"
    if waybill.carrier_number is not None:
        return f"waybill {waybill.number} is known to the carrier as {waybill.carrier_number} already"
    if await waybills.number_of_carrier_number(carrier.code, carrier_number) is not None:
        return f"carrier number {carrier_number} belongs to another waybill"
    await waybills.bind_carrier_number(waybill.number, carrier_number)
    return None


# --------------------------------------------------------------------------- receipts


async def confirm_receipt(
    uow: UnitOfWork, waybill: Waybill, received: Sequence[str], now: datetime
) -> tuple[ReceiptCheck, Waybill]:
    """Compare the materials received with those attested; a mismatch is an exception to both sides."""
    check = check_receipt(waybill.material_hashes, received)
    await WaybillRepository(uow.session).save_receipt(waybill.number, check.outcome, now)
    if check.outcome == "confirmed":
        uow.publish(
            ReceiptConfirmed(
                waybill_number=waybill.number, case_id=waybill.case_id,
                sender_locality=waybill.sender_locality, receiver_locality=waybill.receiver_locality,
                material_count=len(set(waybill.material_hashes)), confirmed_at=now,
            ),
            waybill.localities,
        )
    else:
        uow.publish(
            ReceiptMismatch(
                waybill_number=waybill.number, case_id=waybill.case_id,
                sender_locality=waybill.sender_locality, receiver_locality=waybill.receiver_locality,
                missing=list(check.missing), unexpected=list(check.unexpected), reported_at=now,
            ),
            waybill.localities,
        )
    updated = await refresh(uow, replace(waybill, receipt=check.outcome), now)
    return check, updated


# --------------------------------------------------------------------------- late deliveries


async def flag_overdue(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Flag the waybills still on their way past their due time; how many were flagged."""
    moment = utc(now or datetime.now(UTC))
    waybills = WaybillRepository(uow.session)
    flagged = 0
    for number in await waybills.overdue(moment):
        waybill = await waybills.get_for_update(number)
        if waybill is None or waybill.late:
            continue
        if (await refresh(uow, waybill, moment)).late:
            flagged += 1
    return flagged
