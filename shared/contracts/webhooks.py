"""Events of the webhooks service: a locality's subscription stopped (or started again) being served,
and the locality's webhook health.

They go to the topic of the subscription's locality only; the subject is the subscription id (the
locality code for health reports).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.envelope import Event, event_type


@event_type
class SubscriptionFailing(Event):
    """A delivery ran out of retries: the subscription is failing and its later events wait."""

    type_name = "cn.tongban.webhooks.subscription.failing"

    subscription_id: str
    locality: str
    url: str
    failing_since: datetime
    undelivered: int
    """Deliveries waiting for the subscription when it was marked failing."""
    last_error: str

    def subject(self) -> str:
        return self.subscription_id


@event_type
class SubscriptionResumed(Event):
    """An operator resumed a failing subscription: its waiting deliveries are tried again, in order."""

    type_name = "cn.tongban.webhooks.subscription.resumed"

    subscription_id: str
    locality: str
    url: str
    resumed_by: str
    failing_since: datetime | None
    undelivered: int

    def subject(self) -> str:
        return self.subscription_id


class FailingSubscription(BaseModel):
    """A failing subscription as a health report names it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subscription_id: str
    url: str
    failing_since: datetime | None
    last_error: str
    undelivered: int
    """Deliveries of the subscription waiting when the report was taken."""


@event_type
class WebhookHealthReported(Event):
    """The webhook health of one locality: what the dashboard shows beside the failing alerts.

    Published when the figures change (looked at every few seconds) and at least every
    ``heartbeat_seconds`` while the locality has subscriptions or waiting deliveries. It carries the
    time the oldest waiting delivery's event was read, not an age, so a reader computes the age at
    any moment. It is on the locality's topic but, describing the deliveries themselves, is neither
    kept in the event feed nor delivered by webhook.
    """

    type_name = "cn.tongban.webhooks.health.reported"

    locality: str
    reported_at: datetime
    """When the figures were taken (after the locality's subscriptions were read under a lock)."""
    heartbeat_seconds: float
    """The next report comes within this time: a reader may treat older figures as stale."""
    active: int
    failing: list[FailingSubscription]
    undelivered: int
    oldest_undelivered_at: datetime | None
    """When the oldest waiting delivery's event was read off the topic (None when none waits)."""
    window_seconds: float
    delivered: int
    """Deliveries accepted by their endpoints within the last ``window_seconds``."""
    latency_p50_seconds: float | None
    latency_p95_seconds: float | None
    """From reading an event off the topic to its accepted delivery, over the window (None: none delivered)."""

    def subject(self) -> str:
        return self.locality
