"""A development simulator of carrier journeys (embedded system only: the route does not exist otherwise)."""


from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, status

from services.delivery.api.carrier import carrier_of
from services.delivery.api.common import (
    Ctx,
    Operator,
    Uow,
    log,
    party_waybill,
)
from services.delivery.api.schemas import (
    PlannedEvent,
    SimulationRequest,
    SimulationView,
)
from services.delivery.domain import (
    Carrier,
)
from services.delivery.domain.journeys import pick_scenario, plan_journey
from services.delivery.reference import reference
from services.delivery.service import (
    CarrierReport,
    apply_carrier_events,
)
from shared.service import ServiceContext

dev_router = APIRouter(prefix="/v1/dev", tags=["development"])


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
        waybill = await party_waybill(uow, body.waybill_number, caller)
    carrier = carrier_of(ref, waybill.carrier)
    rng = random.Random(body.seed)
    origin = waybill.sender_address.district if waybill.sender_address else waybill.sender_locality
    destination = waybill.receiver_address.district if waybill.receiver_address else waybill.receiver_locality
    scenario = body.scenario if body.scenario != "random" else pick_scenario(rng)
    plan = [
        {"after_seconds": e.after.total_seconds(), "code": e.code, "location": e.location, "reason": e.reason,
         "action": e.action}
        for e in plan_journey(scenario, rng, origin, destination, waybill.target_hours)
    ]
    ctx.tasks.start(f"delivery-simulation-{waybill.number}",
                    partial(_play, ctx, carrier, caller.locality, waybill.number, plan, body.speed))
    return SimulationView(waybill_number=waybill.number, scenario=scenario,
                          events=[PlannedEvent.model_validate(step) for step in plan])
