"""The routing service as an application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from services.routing import api, events, notices_api, status_api, store
from services.routing.clients import AuthorizationClient, CatalogueClient
from services.routing.documents import api as documents_api
from services.routing.files import api as files_api
from services.routing.files.maintenance import start_files, stop_files
from services.routing.files.service import FILE_KEY
from services.routing.service import (
    APPLICANT_KEY,
    PARTIES_KEY,
    REASON_KEY,
    CalendarKeeper,
    scan_deadlines,
    today,
)
from shared.service import ServiceContext, ServiceDefinition

log = logging.getLogger("tongban.routing")
_keeper: CalendarKeeper | None = None


def calendar_keeper() -> CalendarKeeper:
    """The process's working calendar (one per process; loaded at start)."""
    global _keeper
    if _keeper is None:
        _keeper = CalendarKeeper()
    return _keeper


async def on_startup(ctx: ServiceContext) -> None:
    """Clients of the other services, the calendar, and the periodic deadline scan."""
    ctx.state["authorization"] = AuthorizationClient(ctx.settings.authorization_base_url())
    ctx.state["catalogue"] = CatalogueClient(ctx.settings.catalogue_base_url())
    keeper = calendar_keeper()
    async with ctx.uow() as uow:
        await keeper.reload(uow)
    ctx.state["calendar"] = keeper
    ctx.state["scanner"] = asyncio.create_task(_scan_periodically(ctx, keeper))
    await start_files(ctx)


async def _scan_periodically(ctx: ServiceContext, keeper: CalendarKeeper) -> None:
    while True:
        try:
            async with ctx.uow() as uow:
                await keeper.reload(uow)
                counts = await scan_deadlines(uow, keeper.calendar, today())
                await uow.commit()
            if counts:
                log.info("deadline scan", extra=counts)
        except Exception as exc:
            log.warning("deadline scan failed", extra={"error": repr(exc)})
        await asyncio.sleep(ctx.settings.deadline_check_seconds)


async def on_shutdown(ctx: ServiceContext) -> None:
    """Stop the scan; close the clients."""
    task = ctx.state.get("scanner")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
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
    routers=[*api.routers, notices_api.notices, documents_api.documents, status_api.public_status,
             *files_api.routers],
    handlers=events.HANDLERS,
    on_startup=on_startup,
    on_shutdown=on_shutdown,
)
