"""Routing's case files at start and stop, and their periodic upkeep (retention purge, orphan sweep)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from services.routing.files.service import FILE_KEY, CaseFiles
from shared.service import ServiceContext
from shared.storage import open_store

log = logging.getLogger("tongban.routing.files")


async def start_files(ctx: ServiceContext) -> None:
    """Open the object store (a store still away is retried by each request) and start the upkeep."""
    store = open_store(ctx.settings, "routing")
    await store.start()
    ctx.state["files"] = CaseFiles(store, ctx.settings, ctx.uow, ctx.keys.keyset(FILE_KEY))
    ctx.state["files_upkeep"] = asyncio.create_task(_upkeep(ctx, ctx.state["files"]))


async def _upkeep(ctx: ServiceContext, files: CaseFiles) -> None:
    while True:
        await asyncio.sleep(ctx.settings.file_maintenance_seconds)
        try:
            now = datetime.now(UTC)
            purged = await files.purge(now)
            swept = await files.sweep(now, ctx.settings.file_sweep_grace_seconds)
            if purged["cases"] or swept["removed"]:
                log.info("case files upkeep", extra={**purged, "orphans_removed": swept["removed"]})
        except Exception as exc:
            log.warning("case files upkeep failed", extra={"error": repr(exc)})


async def stop_files(ctx: ServiceContext) -> None:
    """Stop the upkeep; close the store."""
    task = ctx.state.pop("files_upkeep", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    files: CaseFiles | None = ctx.state.get("files")
    if files is not None:
        await files.store.close()
