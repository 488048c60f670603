"""REST API of the delivery service: waybills, receipts, the carrier webhook, a development simulator.

Every route needs an access token. A locality sees only the waybills it sends or receives. The
carrier webhook also needs an HMAC-SHA256 signature over the timestamp and the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from services.delivery.domain import (
    EMSEVT,
    Address,
    BadSignature,
    Carrier,
    DeliverTo,
    Flow,
    InvalidAddress,
    ReceiptOutcome,
    Status,
    Waybill,
    is_sha256_hex,
    mask_name,
    mask_phone,
    s10_problem,
    validate_address,
    verify_signature,
)
from services.delivery.reference import Reference, reference
from services.delivery.service import (
    CarrierReport,
    EventOutcome,
    NotReaddressable,
    apply_carrier_events,
    confirm_receipt,
    readdress,
)
from services.delivery.simulation import pick_scenario, plan_journey
from services.delivery.store import WaybillRepository, utc
from shared.api_types import Timestamp, TimestampIn
from shared.auth import Caller, Role, authenticated, require
from shared.bounded_json import JsonTooDeep, loads_json
from shared.keys import KeyMissing
from shared.limits import BodyTooLarge
from shared.masking import mask_text
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.delivery")

router = APIRouter(prefix="/v1/waybills", tags=["waybills"])
carrier_router = APIRouter(prefix="/v1/carrier", tags=["carrier"])
targets_router = APIRouter(prefix="/v1/delivery-targets", tags=["waybills"])
dev_router = APIRouter(prefix="/v1/dev", tags=["development"])
routers = [router, carrier_router, targets_router]
embedded_routers = [dev_router]
"""Only in the embedded system (``tongban up``): the route does not exist under production settings."""

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]
Officer = Annotated[Caller, Depends(require(Role.DEPARTMENT_OFFICER))]
Staff = Annotated[Caller, Depends(require(Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER))]
CarrierCaller = Annotated[Caller, Depends(require(Role.CARRIER))]
Operator = Annotated[Caller, Depends(require(Role.OPERATOR, Role.MAINTAINER))]
MAX_BATCH = 1000

TIMESTAMP_HEADER = "X-Tongban-Timestamp"
SIGNATURE_HEADER = "X-Tongban-Signature"
CARRIER_HEADER = "X-Tongban-Carrier"


def carrier_hmac_keys(ctx: ServiceContext, carrier: str) -> list[bytes]:
    """The HMAC secrets of a carrier, current first: its own key file, rotatable without touching the rest."""
    versions = ctx.keys.keyset(carrier_key_name(carrier)).versions
    return [k.secret for k in reversed(versions)]


def _verify_any(secrets_: list[bytes], timestamp: str | None, signature: str | None, body: bytes,
                now: float) -> None:
    """Accept a signature by any version of the carrier's key (the carrier moves to a new one at its pace)."""
    failure: BadSignature | None = None
    for secret in secrets_:
        try:
            verify_signature(secret, timestamp, signature, body, now)
            return
        except BadSignature as exc:
            failure = exc
    raise failure or BadSignature("no key")


def carrier_key_name(carrier: str) -> str:
    """The name of a carrier's HMAC key file."""
    return "carrier-hmac-" + carrier


# --------------------------------------------------------------------------- schemas


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


# --------------------------------------------------------------------------- waybills


def _number_or_422(number: str) -> None:
    problem = s10_problem(number)
    if problem:
        raise Problem(f"{number}: {problem}", status=422, slug="invalid-tracking-number",
                      title="Invalid tracking number")


async def _party_waybill(uow: UnitOfWork, number: str, caller: Caller, lock: bool = False) -> Waybill:
    _number_or_422(number)
    waybills = WaybillRepository(uow.session)
    waybill = await (waybills.get_for_update(number) if lock else waybills.get(number))
    if waybill is None or not waybill.involves(caller.locality):
        raise NotFound(f"no waybill {number}")
    return waybill


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
        waybill = await _party_waybill(uow, number, caller)
    return WaybillView.of(waybill)


@router.get("/{number}/events", summary="A waybill's carrier events, by event time")
async def waybill_events(number: str, uow: Uow, caller: Reader) -> list[TrackingEventView]:
    async with uow:
        await _party_waybill(uow, number, caller)
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
        waybill = await _party_waybill(uow, number, caller, lock=True)
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
        waybill = await _party_waybill(uow, number, caller, lock=True)
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


# --------------------------------------------------------------------------- carrier webhook


class BadCarrierSignature(Problem):
    """A carrier request without a valid, fresh signature: 401."""

    status, slug, title = 401, "bad-signature", "Bad signature"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'HMAC-SHA256 realm="tongban-carrier"'})


def _carrier(ref: Reference, code: str | None) -> Carrier:
    carrier = ref.carrier(code or ref.default_carrier)
    if carrier is None:
        raise BadCarrierSignature(f"unknown carrier {code!r}")
    return carrier


_EVENT = TypeAdapter(CarrierEventIn)


async def _read_capped(request: Request, cap: int) -> bytes:
    """The body, read as it streams in and refused (413) once past ``cap``: never held whole when too large."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(f"a batch holds at most {cap} bytes", max_bytes=cap)
        chunks.append(chunk)
    return b"".join(chunks)


def _batch(body: bytes, max_depth: int) -> list[Any]:
    try:
        document = loads_json(body, max_depth)
    except JsonTooDeep as exc:
        raise Problem(str(exc), status=422, slug="json-too-deep", title="JSON nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(f"the body is not JSON: {exc}", status=422, slug="validation",
                      title="Invalid request") from None
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_BATCH:
        raise Problem(f"the body must be an object with an 'events' list of 1 to {MAX_BATCH} events",
                      status=422, slug="validation", title="Invalid request")
    return events


def _reports(raw: list[Any]) -> tuple[list[CarrierReport], list[EventOutcome]]:
    reports, refused = [], []
    for index, item in enumerate(raw):
        try:
            event = _EVENT.validate_python(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "event"
            number = item.get("waybill_number") if isinstance(item, dict) else None
            code = item.get("code") if isinstance(item, dict) else None
            refused.append(EventOutcome(index, "refused", number if isinstance(number, str) else None,
                                        code if isinstance(code, str) else None, f"{where}: {first['msg']}"))
            continue
        # A carrier's free text may name the recipient's phone: masked before it is stored or told.
        reports.append(CarrierReport(index, event.waybill_number, event.code, event.occurred_at, event.location,
                                     mask_text(event.reason), event.action, event.event_id, event.carrier_number))
    return reports, refused


def batch_response(outcomes: list[EventOutcome]) -> JSONResponse:
    """200 when every event was accepted or a duplicate, 207 Multi-Status when some were refused."""
    outcomes = sorted(outcomes, key=lambda o: o.index)
    result = BatchResult(
        accepted=sum(o.outcome == "accepted" for o in outcomes),
        duplicates=sum(o.outcome == "duplicate" for o in outcomes),
        refused=sum(o.outcome == "refused" for o in outcomes),
        results=[EventResult(**o.__dict__) for o in outcomes],
    )
    return JSONResponse(result.model_dump(mode="json"),
                        status_code=status.HTTP_207_MULTI_STATUS if result.refused else status.HTTP_200_OK)


@carrier_router.post(
    "/events",
    summary="Carrier tracking events (UPU EMSEVT), signed with HMAC-SHA256",
    description=(
        "Needs a token with the carrier role and the headers X-Tongban-Timestamp (Unix seconds, within "
        "5 minutes of the server's clock) and X-Tongban-Signature: `sha256=` + hex HMAC-SHA256 of "
        "`<timestamp>.<body>` with the carrier's secret. X-Tongban-Carrier names the carrier (default ems). "
        "Each event is accepted, a duplicate, or refused with its reason: 200 when none was refused, 207 otherwise."
    ),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["events"], "properties": {"events": {
            "type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": CarrierEventIn.model_json_schema()}}}}}}},
    responses={200: {"model": BatchResult}, 207: {"model": BatchResult, "description": "Some events refused"},
               401: {"description": "No token, or a bad or stale signature"}},
)
async def carrier_events(
    request: Request,
    ctx: Ctx,
    caller: CarrierCaller,
    x_tongban_timestamp: Annotated[str | None, Header()] = None,
    x_tongban_signature: Annotated[str | None, Header()] = None,
    x_tongban_carrier: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    refusals = ctx.state.get("carrier_refusals")
    ref = reference()
    carrier = _carrier(ref, x_tongban_carrier)
    try:
        body = await _read_capped(request, ctx.settings.carrier_max_body_bytes)
    except BodyTooLarge:
        if refusals:
            refusals.labels(reason="too-large").inc()
        raise
    try:
        secrets_ = carrier_hmac_keys(ctx, carrier.code)
    except KeyMissing as exc:
        log.error("carrier key missing", extra={"carrier": carrier.code, "error": str(exc)})
        raise Problem(f"no HMAC key is configured for carrier {carrier.code}", status=503,
                      slug="carrier-key-missing", title="Carrier key missing") from None
    try:
        _verify_any(secrets_, x_tongban_timestamp, x_tongban_signature, body, time.time())
    except BadSignature as exc:
        if refusals:
            refusals.labels(reason="signature").inc()
        log.warning("carrier request refused", extra={"client_id": caller.client_id, "reason": str(exc)})
        raise BadCarrierSignature(str(exc)) from None
    reports, refused = _reports(_batch(body, ctx.settings.max_json_depth))
    async with ctx.uow() as uow:
        outcomes = await apply_carrier_events(uow, carrier, caller.locality, reports, datetime.now(UTC))
        await uow.commit()
    counter = ctx.state.get("carrier_events")
    if counter:
        for outcome in outcomes + refused:
            counter.labels(outcome=outcome.outcome).inc()
    return batch_response(outcomes + refused)


# --------------------------------------------------------------------------- development simulator


async def _play(ctx: ServiceContext, carrier: Carrier, locality: str, number: str,
                plan: list[dict[str, Any]], speed: float) -> None:
    previous = 0.0
    for step in plan:
        await asyncio.sleep(max(step["after_seconds"] - previous, 0) / speed)
        previous = step["after_seconds"]
        report = CarrierReport(0, number, step["code"], datetime.now(UTC), step["location"], step["reason"],
                               step["action"])
        try:
            async with ctx.uow() as uow:
                await apply_carrier_events(uow, carrier, locality, [report], datetime.now(UTC))
                await uow.commit()
        except Exception as exc:
            log.warning("simulated event failed", extra={"waybill": number, "error": repr(exc)})


@dev_router.post(
    "/carrier/simulate",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Play a carrier journey for a waybill (embedded system only)",
    description="Only in the embedded system (`tongban up`); the route does not exist otherwise. Events "
    "are applied as the default carrier would report them, compressed by `speed`.",
)
async def simulate(body: SimulationRequest, uow: Uow, ctx: Ctx, caller: Operator) -> SimulationView:
    ref = reference()
    async with uow:
        waybill = await _party_waybill(uow, body.waybill_number, caller)
    carrier = _carrier(ref, waybill.carrier)
    rng = random.Random(body.seed)
    origin = waybill.sender_address.district if waybill.sender_address else waybill.sender_locality
    destination = waybill.receiver_address.district if waybill.receiver_address else waybill.receiver_locality
    scenario = body.scenario if body.scenario != "random" else pick_scenario(rng)
    plan = [
        {"after_seconds": e.after.total_seconds(), "code": e.code, "location": e.location, "reason": e.reason,
         "action": e.action}
        for e in plan_journey(scenario, rng, origin, destination, waybill.target_hours)
    ]
    tasks: set[asyncio.Task[None]] = ctx.state.setdefault("simulations", set())
    task = asyncio.create_task(_play(ctx, carrier, caller.locality, waybill.number, plan, body.speed))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return SimulationView(waybill_number=waybill.number, scenario=scenario,
                          events=[PlannedEvent.model_validate(step) for step in plan])


async def stop_simulations(ctx: ServiceContext) -> None:
    """Cancel the journeys still playing."""
    for task in list(ctx.state.get("simulations", ())):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
