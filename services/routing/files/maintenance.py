"""Routing's case files at start and stop, and their periodic upkeep (retention purge, orphan sweep)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial

from services.routing.files.service import FILE_KEY, CaseFiles
from shared.background import every
from shared.service import ServiceContext
from shared.storage import open_store

log = logging.getLogger("tongban.routing.files")


async def start_files(ctx: ServiceContext) -> None:
    """Open the object store (a store still away is retried by each request) and start the upkeep."""
    store = open_store(ctx.settings, "routing")
    await store.start()
    ctx.state["files"] = CaseFiles(store, ctx.settings, ctx.uow, ctx.keys.keyset(FILE_KEY))
    ctx.tasks.start("routing-files-upkeep", every(lambda: ctx.settings.file_maintenance_seconds,
                                                  partial(_upkeep, ctx, ctx.state["files"]), "case files upkeep",
                                                  first_after=True))


async def _upkeep(ctx: ServiceContext, files: CaseFiles) -> None:
    now = datetime.now(UTC)
    purged = await files.purge(now)
    swept = await files.sweep(now, ctx.settings.file_sweep_grace_seconds)
    if purged["cases"] or swept["removed"]:
        log.info("case files upkeep", extra={**purged, "orphans_removed": swept["removed"]})


async def stop_files(ctx: ServiceContext) -> None:
    """Close the store (the frame stopped the upkeep before)."""
    files: CaseFiles | None = ctx.state.get("files")
    if files is not None:
        await files.store.close()
