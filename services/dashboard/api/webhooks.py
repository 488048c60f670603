"""The webhook health panel's API: failing subscriptions (the alerts), backlog and latency per locality.

The figures come from the webhooks service's events on the locality topics (see
``webhook_health.py``); the age of the oldest waiting delivery is computed here, against the clock
dependency of ``views.py`` (which the tests replace), from the time the report says it was read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from services.dashboard.api.common import Ctx, Operator
from services.dashboard.api.handling import Clock, get_clock
from services.dashboard.domain.webhook_health import webhook_panel
from services.dashboard.store_webhooks import webhook_figures
from shared.api_types import Timestamp

router = APIRouter(prefix="/api", tags=["dashboard"])


class LocalityWebhookHealth(BaseModel):
    """One locality's webhook health, as of its last report (zeros before any)."""

    locality: str
    reported_at: Timestamp | None = Field(description="When the webhooks service took the figures; None: no report "
                                                     "yet (the locality has had no subscription).")
    stale: bool = Field(description="No report for more than twice the heartbeat the last one announced.")
    active: int = Field(description="Subscriptions being served.")
    failing: int = Field(description="Subscriptions failing (their events wait for an operator).")
    undelivered: int = Field(description="Deliveries waiting, of every subscription of the locality.")
    oldest_undelivered_at: Timestamp | None = Field(description="When the oldest waiting delivery's event was read.")
    oldest_undelivered_seconds: float = Field(description="Its age now (0 when nothing waits).")
    window_seconds: float | None = Field(description="The window the latency figures cover.")
    delivered: int = Field(description="Deliveries accepted by their endpoints within the window.")
    latency_p50_seconds: float | None = Field(description="Median time from reading an event to its accepted "
                                                          "delivery, over the window (None: none delivered).")
    latency_p95_seconds: float | None


class FailingSubscription(BaseModel):
    """A failing subscription: the alert an operator acts on (fix the endpoint, then resume it)."""

    subscription_id: str
    locality: str
    url: str
    failing_since: Timestamp | None
    last_error: str = Field(description="Why the last attempt failed (personal data masked).")
    undelivered: int = Field(description="Its deliveries waiting, as last reported.")
    known_at: Timestamp = Field(description="When the webhooks service said so.")


class WebhookPanel(BaseModel):
    """Webhook health of the localities the operator sees."""

    now: Timestamp
    localities: list[LocalityWebhookHealth]
    failing: list[FailingSubscription] = Field(description="Oldest failure first.")


@router.get("/panels/webhooks", summary="Webhook health per locality: failing subscriptions, backlog, latency")
async def webhooks(viewer: Operator, ctx: Ctx, clock: Annotated[Clock, Depends(get_clock)]) -> WebhookPanel:
    async with ctx.sessionmaker() as session:
        codes, reports, subscriptions = await webhook_figures(session, viewer, ctx.localities.codes)
    return WebhookPanel.model_validate(webhook_panel(codes, reports, subscriptions, clock()))


routers = [router]
