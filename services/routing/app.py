"""The routing service as an application."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from services.routing import api, events, store
from services.routing.clients import CatalogueClient
from services.routing.commitments import service as commitments
from services.routing.deadlines import CalendarKeeper, scan_deadlines
from services.routing.delegations import CachingAuthorizationClient, DecisionCache, forget_on
from services.routing.evaluations.service import scan_rectifications
from services.routing.files.maintenance import start_files, stop_files
from services.routing.files.service import FILE_KEY
from services.routing.service import (
    APPLICANT_KEY,
    PARTIES_KEY,
    REASON_KEY,
    today,
)
from shared.background import every
from shared.service import ServiceContext, ServiceDefinition

log = logging.getLogger("tongban.routing")


async def on_startup(ctx: ServiceContext) -> None:
    """Clients of the other services, the calendar, and the periodic deadline scan."""
    decisions = DecisionCache(ctx.settings.delegation_cache_seconds)
    ctx.state["delegations"] = decisions
    ctx.state["authorization"] = CachingAuthorizationClient(ctx.settings.authorization_base_url(), decisions)
    ctx.state["catalogue"] = CatalogueClient(ctx.settings.catalogue_base_url())
    keeper = CalendarKeeper()  # the service's working calendar, in its state (event handlers are given it too)
    async with ctx.uow() as uow:
        await keeper.reload(uow)
    ctx.state["calendar"] = keeper
    ctx.tasks.start("routing-deadline-scan",
                    every(lambda: ctx.settings.deadline_check_seconds, partial(_scan, ctx, keeper), "deadline scan"))
    await start_files(ctx)


async def _scan(ctx: ServiceContext, keeper: CalendarKeeper) -> None:
    async with ctx.uow() as uow:
        await keeper.reload(uow)
        counts = await scan_deadlines(uow, keeper.calendar, today())
        if overdue := await scan_rectifications(uow, today()):  # evaluations' rectifications (issue 17)
            counts["rectifications_overdue"] = overdue
        if overdue := await commitments.scan_overdue(uow, today()):  # verifications past due (告知承诺制)
            counts["commitments_overdue"] = overdue
        await uow.commit()
    if counts:
        log.info("deadline scan", extra=counts)


async def on_shutdown(ctx: ServiceContext) -> None:
    """Close the case-file store and the clients (the frame stopped the background tasks)."""
    await stop_files(ctx)
    await ctx.state["authorization"].close()
    await ctx.state["catalogue"].close()


DEFINITION = ServiceDefinition(
    name="routing",
    key_names=(APPLICANT_KEY, REASON_KEY, FILE_KEY, PARTIES_KEY),
    # Case files stream in (counted against their own caps, never read whole by the frame).
    streamed_bodies={r"^/v1/cases/[^/]+/files/[0-9A-Fa-f]{64}$": lambda settings: settings.file_max_bytes + 65536},
    title="Tongban routing",
    description="Cross-locality cases: accept here, handle there; life cycle and deadlines in working days.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=api.routers,
    handlers=events.HANDLERS,
    event_observers=[forget_on],
    on_startup=on_startup,
    on_shutdown=on_shutdown,
)
