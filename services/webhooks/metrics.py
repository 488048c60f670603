"""Webhook health for operators and the dashboard: Prometheus metrics and their summary.

- ``tongban_webhook_attempts_total{locality,outcome}``: attempts by outcome (``2xx``, ``4xx``, ``5xx``,
  ``3xx``, ``no_answer``, ``refused``);
- ``tongban_webhook_attempt_seconds{locality}``: how long endpoints took to answer;
- ``tongban_webhook_delivery_seconds{locality}``: from reading an event off its topic to its 2xx;
- ``tongban_webhook_subscriptions{locality,status}``: subscriptions active and failing;
- ``tongban_webhook_undelivered{locality}`` and ``tongban_webhook_oldest_undelivered_seconds{locality}``:
  deliveries waiting, and the age of the oldest one (0 when none waits).
The gauges are refreshed from the database every few seconds.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.webhooks.domain import Attempt

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400, 259200)


def outcome_of(attempt: Attempt) -> str:
    """The label of an attempt's outcome."""
    if attempt.status_code is None:
        return "refused" if attempt.error.startswith("refused") else "no_answer"
    return f"{attempt.status_code // 100}xx"


class WebhookMetrics:
    """The webhooks service's own metrics, on its ``/metrics``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter("tongban_webhook_attempts", "Webhook delivery attempts by outcome",
                                ["locality", "outcome"], registry=registry)
        self.attempt_seconds = Histogram("tongban_webhook_attempt_seconds", "Time endpoints took to answer",
                                         ["locality"], registry=registry, buckets=LATENCY_BUCKETS[:9])
        self.delivery_seconds = Histogram("tongban_webhook_delivery_seconds",
                                          "From reading an event off its topic to its accepted delivery",
                                          ["locality"], registry=registry, buckets=LATENCY_BUCKETS)
        self.subscriptions = Gauge("tongban_webhook_subscriptions", "Subscriptions by status",
                                   ["locality", "status"], registry=registry)
        self.undelivered = Gauge("tongban_webhook_undelivered", "Deliveries waiting", ["locality"], registry=registry)
        self.oldest = Gauge("tongban_webhook_oldest_undelivered_seconds",
                            "Age of the oldest waiting delivery's event (0 when none waits)", ["locality"],
                            registry=registry)
        self.latencies: dict[str, list[float]] = {}
        """Recent delivery latencies per locality (the last 1,000), for the health summary."""

    def attempt(self, locality: str, attempt: Attempt) -> None:
        """Count an attempt."""
        self.attempts.labels(locality, outcome_of(attempt)).inc()
        if attempt.status_code is not None:
            self.attempt_seconds.labels(locality).observe(attempt.latency_ms / 1000)

    def delivered(self, locality: str, seconds: float) -> None:
        """An event reached its endpoint ``seconds`` after it was read."""
        self.delivery_seconds.labels(locality).observe(max(0.0, seconds))
        recent = self.latencies.setdefault(locality, [])
        recent.append(max(0.0, seconds))
        del recent[:-1000]

    def refresh(self, localities: list[str], counts: list[tuple[str, str, int]],
                waiting: list[tuple[str, datetime | None, int]], now: datetime) -> None:
        """Set the gauges from the database's figures."""
        for code in localities:
            for status in ("active", "failing"):
                self.subscriptions.labels(code, status).set(0)
            self.undelivered.labels(code).set(0)
            self.oldest.labels(code).set(0)
        for code, status, n in counts:
            self.subscriptions.labels(code, status).set(n)
        for code, oldest, n in waiting:
            self.undelivered.labels(code).set(n)
            self.oldest.labels(code).set(max(0.0, (now - oldest).total_seconds()) if oldest else 0)

    def percentile(self, locality: str, fraction: float) -> float | None:
        """A percentile of the recent delivery latencies of a locality (None before any delivery)."""
        recent = sorted(self.latencies.get(locality, []))
        if not recent:
            return None
        return recent[min(len(recent) - 1, int(fraction * len(recent)))]
