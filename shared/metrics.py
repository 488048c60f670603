"""Prometheus metrics of one service, in a registry of its own (the embedded system runs four)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    """The metrics every service exposes on ``/metrics``."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        r = self.registry
        self.requests = Counter(
            "tongban_http_requests", "HTTP requests handled", ["method", "route", "status"],
            registry=r,
        ).labels  # called with method, route, status
        self.request_seconds = Histogram(
            "tongban_http_request_seconds", "HTTP request duration", ["route"], registry=r,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        ).labels
        self.events_published = Counter(
            "tongban_events_published", "Events published from the outbox", registry=r
        )
        self.publish_seconds = Histogram(
            "tongban_outbox_publish_seconds", "Time to publish one outbox batch", registry=r
        )
        self.outbox_pending = Gauge(
            "tongban_outbox_pending", "Events waiting in the outbox (last seen)", registry=r
        )
        self.relay_failures = Counter(
            "tongban_outbox_relay_failures", "Failed outbox relay rounds", registry=r
        )
        self.events_handled = Counter(
            "tongban_events_handled", "Events handled by type", ["type"], registry=r
        ).labels
        self.events_duplicate = Counter(
            "tongban_events_duplicate", "Redelivered events skipped by the inbox", registry=r
        )
        self.events_dead_lettered = Counter(
            "tongban_events_dead_lettered", "Records sent to a dead-letter topic", ["reason"],
            registry=r,
        ).labels
        self.info = Gauge("tongban_service_info", "Service identity", ["service"], registry=r)
        self.info.labels(**labels).set(1)
