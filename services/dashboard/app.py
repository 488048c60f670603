"""The dashboard as an application: a fifth process beside the four services.

It reads every locality topic and every dead-letter topic in its own consumer group
(``tongban-dashboard``), keeps its own read model and never imports the services.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from services.dashboard import api, events, store
from services.dashboard.lag import LagReader
from services.dashboard.store_read_model import ReadModel
from services.dashboard.store_webhooks import WebhookHealthStore
from services.dashboard.stream import Broadcaster
from shared.background import every
from shared.service import ServiceContext, ServiceDefinition

log = logging.getLogger("tongban.dashboard")

KEEP_EVENTS = timedelta(hours=24)
"""Events (and their per-topic counts) older than this are dropped; the panels look back one hour."""
KEEP_DEAD_LETTERS = timedelta(days=7)
PRUNE_SECONDS = 600.0


async def prune_once(ctx: ServiceContext) -> None:
    """Drop what the dashboard no longer shows, and expired sessions."""
    async with ctx.sessionmaker() as session:
        await ReadModel(session).prune(datetime.now(UTC), KEEP_EVENTS, KEEP_DEAD_LETTERS)
        await WebhookHealthStore(session).prune(datetime.now(UTC))
        await session.commit()


async def on_startup(ctx: ServiceContext) -> None:
    """The broadcaster of the live stream, the lag reader, the pruning task."""
    ctx.state["broadcaster"] = Broadcaster()
    ctx.state["lag"] = LagReader(ctx)
    ctx.tasks.start("dashboard-prune", every(PRUNE_SECONDS, partial(prune_once, ctx), "pruning"))


async def on_shutdown(ctx: ServiceContext) -> None:
    """Close the Kafka clients of the lag reader (the frame stopped the pruning)."""
    await ctx.state["lag"].close()


DEFINITION = ServiceDefinition(
    name="dashboard",
    title="Tongban operators' dashboard",
    description="Live events of every locality, the case funnel, handling time and on-time rate per week, "
    "deadlines, deliveries in exception, agreements, webhook health, dead letters and consumer lag, for operators.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=api.routers,
    handlers=events.HANDLERS,
    on_startup=on_startup,
    on_shutdown=on_shutdown,
    consumes_dead_letters=True,
    batch_observers=[events.observe_records],
)
