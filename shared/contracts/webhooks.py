"""Events of the webhooks service: a locality's subscription stopped (or started again) being served.

They go to the topic of the subscription's locality only; the subject is the subscription id.
"""

from __future__ import annotations

from datetime import datetime

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
