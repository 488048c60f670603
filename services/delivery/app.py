"""The delivery service as an application."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from prometheus_client import Counter

from services.delivery import api, events, store
from services.delivery.reference import reference
from services.delivery.service import flag_overdue
from services.delivery.store import PERSONAL_DATA_KEY, WaybillRepository
from shared.background import every
from shared.service import ServiceContext, ServiceDefinition

log = logging.getLogger("tongban.delivery")

KEY_NAMES = (PERSONAL_DATA_KEY, *(api.carrier_key_name(code) for code in ("ems", "cnpost")))
"""Delivery's own keys: the personal-data seal and one HMAC secret per carrier of carriers.json."""

LATE_CHECK_SECONDS = 60.0
"""How often waybills still on their way are checked against their delivery time target."""


async def check_late_once(ctx: ServiceContext) -> int:
    """Flag the waybills that passed their due time without delivery; how many were flagged."""
    async with ctx.uow() as uow:
        flagged = await flag_overdue(uow)
        await uow.commit()
    if flagged:
        log.info("late deliveries flagged", extra={"count": flagged})
    return flagged


async def on_startup(ctx: ServiceContext) -> None:
    """Read the reference data (fail early when it is wrong); add metrics; start the late-delivery check."""
    reference()
    async with ctx.uow() as uow:  # rows from before addresses were sealed at rest, or sealed with another cipher
        sealed = await WaybillRepository(uow.session).seal_plain_addresses()
        await uow.commit()
    if sealed:
        log.info("addresses sealed at rest", extra={"count": sealed})
    ctx.state["carrier_events"] = Counter(
        "tongban_carrier_events", "Carrier events by outcome (accepted, duplicate, refused)", ["outcome"],
        registry=ctx.metrics.registry,
    )
    ctx.state["carrier_refusals"] = Counter(
        "tongban_carrier_requests_refused", "Carrier requests refused before reading (signature, body)", ["reason"],
        registry=ctx.metrics.registry,
    )
    ctx.tasks.start("delivery-late-check", every(lambda: ctx.state.get("late_check_seconds", LATE_CHECK_SECONDS),
                                                 partial(check_late_once, ctx), "late-delivery check",
                                                 first_after=True))


DEFINITION = ServiceDefinition(
    name="delivery",
    key_names=KEY_NAMES,
    title="Tongban delivery",
    description="Postal waybills (UPU S10) and carrier tracking (UPU EMSEVT) for materials and results.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=api.routers,
    embedded_routers=api.embedded_routers,
    streamed_bodies={"/v1/carrier/events": lambda settings: settings.carrier_max_body_bytes},
    handlers=events.HANDLERS,
    on_startup=on_startup,
)
