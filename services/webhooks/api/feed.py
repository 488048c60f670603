"""The locality's event feed over REST (for systems that poll) and its webhook health."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query

from services.webhooks.api.common import Ctx, Reader, Uow, now, rules
from services.webhooks.api.schemas import FeedItem, FeedPage, LocalityHealth, SubscriptionOut
from services.webhooks.metrics import WebhookMetrics
from services.webhooks.store import FeedRepository, SubscriptionRepository, utc
from services.webhooks.store_deliveries import DeliveryRepository
from shared.problems import Problem

feed = APIRouter(prefix="/v1/events", tags=["event feed"])
health = APIRouter(prefix="/v1/webhook-health", tags=["health"])


@feed.get("", response_model=FeedPage, responses={410: {"description": "the events after `after` were pruned"}},
          summary="The CloudEvents of the caller's locality's topic, in order, after a position")
async def events_after(
    uow: Uow, caller: Reader,
    after: Annotated[int | None, Query(ge=0, description="The last position seen; leave out to start from the "
                                                         "oldest event kept.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FeedPage:
    async with uow:
        repo = FeedRepository(uow.session)
        oldest, head = await repo.bounds(caller.locality)
        start = after if after is not None else max(0, (oldest or head + 1) - 1)
        if after is not None and after < head and (oldest is None or after + 1 < oldest):
            last_gone = head if oldest is None else oldest - 1
            raise Problem(f"events {after + 1} to {last_gone} are no longer kept (retention); the oldest kept is "
                          f"{oldest or 'none'}", status=410, slug="feed-gone", title="Events no longer kept",
                          oldest_position=oldest)
        rows = await repo.page(caller.locality, start, limit + 1)
    page = rows[:limit]
    return FeedPage(events=[FeedItem(position=r.position, received_at=r.received_at, event=json.loads(r.body))
                            for r in page],
                    next_after=page[-1].position if page else start, has_more=len(rows) > limit,
                    oldest_position=oldest)


@health.get("", response_model=LocalityHealth,
            summary="Webhook health of the caller's locality: failing subscriptions, backlog, latency")
async def locality_health(uow: Uow, ctx: Ctx, caller: Reader) -> LocalityHealth:
    at = now(ctx)
    async with uow:
        subs = await SubscriptionRepository(uow.session, rules(ctx).sealer).of_locality(caller.locality)
        waiting = [w for w in await DeliveryRepository(uow.session).oldest_waiting() if w[0] == caller.locality]
    oldest = waiting[0][1] if waiting and waiting[0][1] else None
    metrics: WebhookMetrics = ctx.state["webhook_metrics"]
    return LocalityHealth(
        locality=caller.locality, subscriptions=len(subs),
        failing=[SubscriptionOut.of(s) for s in subs if s.status == "failing"],
        undelivered=waiting[0][2] if waiting else 0,
        oldest_undelivered_seconds=max(0.0, (at - utc(oldest)).total_seconds()) if oldest else 0.0,
        delivery_latency_p50_seconds=metrics.percentile(caller.locality, 0.5),
        delivery_latency_p95_seconds=metrics.percentile(caller.locality, 0.95),
    )
