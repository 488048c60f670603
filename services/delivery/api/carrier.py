"""The carrier webhook: tracking events (UPU EMSEVT) signed with HMAC-SHA256 by the carrier's key."""


from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from services.delivery.api.common import (
    CarrierCaller,
    Ctx,
    log,
)
from services.delivery.api.schemas import (
    MAX_BATCH,
    BatchResult,
    CarrierEventIn,
    EventResult,
)
from services.delivery.domain import (
    BadSignature,
    Carrier,
    verify_signature,
)
from services.delivery.reference import Reference, reference
from services.delivery.service import (
    CarrierReport,
    EventOutcome,
    apply_carrier_events,
)
from shared.bounded_json import JsonTooDeep, loads_json
from shared.keys import KeyMissing
from shared.limits import BodyTooLarge
from shared.masking import mask_text
from shared.problems import Problem
from shared.service import ServiceContext

carrier_router = APIRouter(prefix="/v1/carrier", tags=["carrier"])

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



class BadCarrierSignature(Problem):
    """A carrier request without a valid, fresh signature: 401."""

    status, slug, title = 401, "bad-signature", "Bad signature"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'HMAC-SHA256 realm="tongban-carrier"'})


def carrier_of(ref: Reference, code: str | None) -> Carrier:
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
    carrier = carrier_of(ref, x_tongban_carrier)
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


