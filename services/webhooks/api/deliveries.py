"""A subscription's delivery log; redelivering one event, replaying everything since a time."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from services.webhooks.api.common import Ctx, Manager, Reader, Uow, now, rules
from services.webhooks.api.schemas import DeliveryLog, DeliveryOut, ReplayIn, ReplayQueued
from services.webhooks.service import load_own, redeliver, replay
from services.webhooks.store_deliveries import DeliveryRepository
from shared.problems import Problem

router = APIRouter(prefix="/v1/subscriptions/{subscription_id}", tags=["deliveries"])


def _cursor(d: DeliveryOut) -> str:
    return base64.urlsafe_b64encode(json.dumps([d.position, d.id]).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, str]:
    try:
        position, delivery_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(position), str(delivery_id)
    except (ValueError, TypeError) as exc:
        raise Problem("cursor is not valid", status=422, slug="validation", title="Invalid request",
                      errors=[{"field": "query.cursor", "message": "not a cursor of this log"}]) from exc


@router.get("/deliveries", response_model=DeliveryLog,
            summary="The delivery log: each event's attempts, status codes, latency and last error")
async def delivery_log(
    subscription_id: str, uow: Uow, ctx: Ctx, caller: Reader,
    state: Literal["pending", "delivered"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryLog:
    before = _decode(cursor) if cursor else None
    async with uow:
        await load_own(uow, rules(ctx), subscription_id, caller.locality)
        repo = DeliveryRepository(uow.session)
        found = await repo.log(subscription_id, state, before, limit + 1)
        page = found[:limit]
        attempts = await repo.attempts([d.id for d in page])
    items = [DeliveryOut.of(d, attempts[d.id]) for d in page]
    return DeliveryLog(deliveries=items, next_cursor=_cursor(items[-1]) if len(found) > limit else None)


@router.post("/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED,
             response_model=DeliveryOut, summary="Send one delivery again (it keeps its webhook-id)")
async def redeliver_one(subscription_id: str, delivery_id: str, uow: Uow, ctx: Ctx, caller: Manager) -> DeliveryOut:
    async with uow:
        sub = await load_own(uow, rules(ctx), subscription_id, caller.locality)
        delivery = await redeliver(uow, sub, delivery_id, now(ctx))
    ctx.state["dispatcher"].notify()
    return DeliveryOut.of(delivery)


@router.post("/replay", status_code=status.HTTP_202_ACCEPTED, response_model=ReplayQueued,
             summary="Send again every matching event of the feed since a time, in order")
async def replay_since(subscription_id: str, body: ReplayIn, uow: Uow, ctx: Ctx, caller: Manager) -> ReplayQueued:
    if body.since.tzinfo is None:
        raise Problem("since needs a time zone", status=422, slug="validation", title="Invalid request",
                      errors=[{"field": "body.since", "message": "no time zone"}])
    async with uow:
        sub = await load_own(uow, rules(ctx), subscription_id, caller.locality)
        queued = await replay(uow, sub, body.since, now(ctx))
    ctx.state["dispatcher"].notify()
    return ReplayQueued(queued=queued)
