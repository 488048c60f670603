"""The webhooks service as an application.

It reads every locality topic in its own consumer group (``tongban-webhooks``), keeps each
locality's events as its feed, and dispatches the locality's webhook subscriptions. It never
imports the other services.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from services.webhooks import api, events, store
from services.webhooks.dispatcher import Dispatcher, resolve
from services.webhooks.domain import AddressPolicy, RetryPolicy
from services.webhooks.metrics import WebhookMetrics
from services.webhooks.service import Rules, report_health
from services.webhooks.store import SECRET_SEAL_KEY, FeedRepository, Sealer, SubscriptionRepository
from services.webhooks.store_deliveries import DeliveryRepository
from shared.background import every
from shared.service import ServiceContext, ServiceDefinition

log = logging.getLogger("tongban.webhooks")

PRUNE_SECONDS = 600.0
GAUGE_SECONDS = 5.0


def clock() -> datetime:
    """The service's clock (UTC)."""
    return datetime.now(UTC)


def rules_of(ctx: ServiceContext) -> Rules:
    """The rules the settings decide."""
    s = ctx.settings
    return Rules(
        policy=AddressPolicy.from_text(s.webhook_allow_http_loopback, s.webhook_allowed_networks),
        retry=RetryPolicy(first=timedelta(seconds=s.webhook_retry_first_seconds),
                          longest=timedelta(seconds=s.webhook_retry_longest_seconds),
                          horizon=timedelta(seconds=s.webhook_retry_horizon_seconds)),
        overlap=timedelta(seconds=s.webhook_secret_overlap_seconds),
        sealer=Sealer(ctx.keys.keyset(SECRET_SEAL_KEY)),
        resolver=resolve,
    )


async def prune_once(ctx: ServiceContext) -> int:
    """Drop feed events past their retention that no delivery waits for (and old finished deliveries)."""
    keep = timedelta(hours=ctx.settings.webhook_feed_retention_hours)
    async with ctx.sessionmaker() as session:
        dropped = await FeedRepository(session).prune(ctx.state["clock"]() - keep)
        await session.commit()
    return dropped


async def report_once(ctx: ServiceContext) -> list[str]:
    """Publish the localities' webhook health that changed (or is due for its heartbeat)."""
    heartbeat = timedelta(seconds=ctx.settings.webhook_health_heartbeat_seconds)
    async with ctx.uow() as uow:
        return await report_health(uow, ctx.localities.codes, ctx.state["clock"], heartbeat)


async def refresh_gauges(ctx: ServiceContext) -> None:
    """Set the health gauges from the database."""
    async with ctx.sessionmaker() as session:
        counts = await SubscriptionRepository(session, ctx.state["rules"].sealer).counts()
        waiting = await DeliveryRepository(session).oldest_waiting()
    now = ctx.state["clock"]()
    ctx.state["webhook_metrics"].refresh(ctx.localities.codes, counts,
                                         [(c, store.utc(o) if o else None, n) for c, o, n in waiting], now)


async def on_startup(ctx: ServiceContext) -> None:
    """The rules, the metrics, the dispatcher, pruning, the health gauges and the health reports."""
    ctx.state["clock"] = clock
    ctx.state["rules"] = rules_of(ctx)
    ctx.state["webhook_metrics"] = WebhookMetrics(ctx.metrics.registry)
    dispatcher = Dispatcher(ctx, ctx.state["rules"], clock)
    ctx.state["dispatcher"] = dispatcher
    dispatcher.start()
    ctx.tasks.start("webhooks-prune", every(PRUNE_SECONDS, partial(prune_once, ctx), "prune"))
    ctx.tasks.start("webhooks-gauges", every(GAUGE_SECONDS, partial(refresh_gauges, ctx), "gauges"))
    ctx.tasks.start("webhooks-health", every(ctx.settings.webhook_health_report_seconds, partial(report_once, ctx),
                                             "health"))


async def on_shutdown(ctx: ServiceContext) -> None:
    """Stop dispatching (the frame stopped pruning, the gauges and the health reports)."""
    if "dispatcher" in ctx.state:
        await ctx.state["dispatcher"].stop()


DEFINITION = ServiceDefinition(
    name="webhooks",
    title="Tongban webhooks and event feed",
    description="Each locality's events as a REST feed, and signed webhooks (Standard Webhooks) to the "
    "endpoints its systems subscribe, at least once and in order per case.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=api.routers,
    handlers=events.HANDLERS,
    on_startup=on_startup,
    on_shutdown=on_shutdown,
    batch_observers=[events.observe_records],
    key_names=(SECRET_SEAL_KEY,),
)
