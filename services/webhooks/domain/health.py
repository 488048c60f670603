"""A locality's webhook health as figures, and when they are worth reporting. No I/O.

The figures go out as ``WebhookHealthReported`` events on the locality's topic, for the dashboard.
They are published when they change and at least every heartbeat while the locality has
subscriptions or waiting deliveries, so a quiet locality costs one event per heartbeat and a
reader can tell stale figures from figures that did not move.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.contracts.webhooks import FailingSubscription, WebhookHealthReported

LATENCY_WINDOW = timedelta(minutes=15)
"""Delivery latencies are taken over the deliveries accepted in this window."""


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (``fraction`` between 0 and 1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class HealthFigures:
    """What one locality's webhooks look like at one moment."""

    locality: str
    active: int = 0
    failing: tuple[FailingSubscription, ...] = ()
    undelivered: int = 0
    oldest_undelivered_at: datetime | None = None
    latencies: tuple[float, ...] = field(default=(), repr=False)
    """Seconds from reading each event off the topic to its accepted delivery, within the window."""

    @property
    def watched(self) -> bool:
        """Whether there is anything to watch: subscriptions, or deliveries still waiting."""
        return bool(self.active or self.failing or self.undelivered)

    def summary(self) -> dict[str, Any]:
        """The figures a report carries, comparable with the last report's (latencies to the millisecond)."""
        p50, p95 = percentile(self.latencies, 0.5), percentile(self.latencies, 0.95)
        return {
            "active": self.active,
            "failing": [f.model_dump(mode="json") for f in self.failing],
            "undelivered": self.undelivered,
            "oldest_undelivered_at": self.oldest_undelivered_at.isoformat() if self.oldest_undelivered_at else None,
            "delivered": len(self.latencies),
            "latency_p50_seconds": round(p50, 3) if p50 is not None else None,
            "latency_p95_seconds": round(p95, 3) if p95 is not None else None,
        }

    def report(self, now: datetime, heartbeat: timedelta) -> WebhookHealthReported:
        """The event that says so."""
        return WebhookHealthReported(locality=self.locality, reported_at=now,
                                     heartbeat_seconds=heartbeat.total_seconds(),
                                     window_seconds=LATENCY_WINDOW.total_seconds(), **self.summary())


def report_due(figures: HealthFigures, last: dict[str, Any] | None, last_at: datetime | None, now: datetime,
               heartbeat: timedelta) -> bool:
    """Whether to publish ``figures`` now, given the last report's summary and time (None: never reported)."""
    if last is None or last_at is None:
        return figures.watched
    if figures.summary() != last:
        return True
    return figures.watched and now - last_at >= heartbeat
