"""Webhook health on the dashboard: the rules that fold the webhooks service's events. No I/O.

Two kinds of event, both on the locality's own topic:

- ``subscription.failing`` / ``subscription.resumed``: a subscription of the locality stopped being
  served or started again. They raise and clear the alert at once.
- ``health.reported``: the locality's figures (subscriptions, waiting deliveries and when the oldest
  was read, delivery latency p50/p95 over a window), when they change and at least every heartbeat.
  A report also names the subscriptions failing when it was taken, which settles what events alone
  cannot (a subscription deleted while failing; a dashboard that started after the event was gone).

The three travel under different keys (subscription id, locality), so they may arrive in any order:
each change carries the time it was made at the webhooks service, and an older one never undoes a
newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from services.dashboard.domain import mask_text
from shared.contracts.webhooks import SubscriptionFailing, SubscriptionResumed, WebhookHealthReported

FAILING_TYPE = "cn.tongban.webhooks.subscription.failing"
RESUMED_TYPE = "cn.tongban.webhooks.subscription.resumed"
REPORT_TYPE = "cn.tongban.webhooks.health.reported"
WEBHOOK_TYPES = frozenset({FAILING_TYPE, RESUMED_TYPE, REPORT_TYPE})
STALE_SLACK = timedelta(seconds=30)
"""A report is stale when twice its heartbeat and this much have passed without another."""


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@dataclass(frozen=True)
class SubscriptionHealth:
    """What the dashboard knows of one subscription: failing or not, since when, as of ``changed_at``."""

    subscription_id: str
    locality: str
    failing: bool
    url: str
    failing_since: datetime | None
    last_error: str
    undelivered: int
    changed_at: datetime


def _failing(sid: str, locality: str, url: str, since: datetime | None, error: str, undelivered: int,
             at: datetime) -> SubscriptionHealth:
    """A failing subscription, its endpoint and error masked like every text the dashboard keeps."""
    return SubscriptionHealth(sid[:64], locality[:16], True, mask_text(url)[:2000], _utc(since),
                              mask_text(error)[:1000], max(0, undelivered), at)


def fold_subscription_event(current: SubscriptionHealth | None, ce_type: str, data: Mapping[str, Any],
                            at: datetime) -> SubscriptionHealth | None:
    """A failing or resumed event applied; None when it changes nothing (malformed, or older than what is known)."""
    if current is not None and current.changed_at >= at:
        return None
    try:
        if ce_type == FAILING_TYPE:
            failed = SubscriptionFailing.model_validate(data)
            return _failing(failed.subscription_id, failed.locality, failed.url, failed.failing_since,
                            failed.last_error, failed.undelivered, at)
        if ce_type == RESUMED_TYPE:
            back = SubscriptionResumed.model_validate(data)
            return SubscriptionHealth(back.subscription_id[:64], back.locality[:16], False, mask_text(back.url)[:2000],
                                      None, "", max(0, back.undelivered), at)
    except ValidationError:
        return None
    return None


def parse_report(data: Mapping[str, Any]) -> WebhookHealthReported | None:
    """A health report; None when it is malformed."""
    try:
        report = WebhookHealthReported.model_validate(data)
    except ValidationError:
        return None
    return report.model_copy(update={"reported_at": _utc(report.reported_at),
                                     "oldest_undelivered_at": _utc(report.oldest_undelivered_at)})


def reconcile(known: Iterable[SubscriptionHealth], report: WebhookHealthReported) -> list[SubscriptionHealth]:
    """The subscriptions of the report's locality that the report changes (those known before it only).

    A subscription the report names is failing (with the report's count of its waiting deliveries);
    one it does not name is not failing any more (resumed, or deleted, which publishes no event).
    """
    at = report.reported_at
    named = {f.subscription_id[:64]: f for f in report.failing}
    by_id = {k.subscription_id: k for k in known if k.locality == report.locality}
    changed: list[SubscriptionHealth] = []
    for sid, current in by_id.items():
        if sid not in named and current.failing and current.changed_at < at:
            changed.append(replace(current, failing=False, failing_since=None, last_error="", undelivered=0,
                                   changed_at=at))
    for sid, figure in named.items():
        before = by_id.get(sid)
        if before is None or before.changed_at < at:
            changed.append(_failing(sid, report.locality, figure.url, figure.failing_since, figure.last_error,
                                    figure.undelivered, at))
    return changed


def locality_health(code: str, report: WebhookHealthReported | None, subscriptions: Sequence[SubscriptionHealth],
                    now: datetime) -> dict[str, Any]:
    """One locality's row of the panel: the report's figures, the age of the oldest waiting delivery now.

    The count of active subscriptions is the report's, corrected by the failing and resumed events
    heard since it was taken, so that it agrees with the alerts until the next report.
    """
    oldest = _utc(report.oldest_undelivered_at) if report else None
    at = _utc(report.reported_at) if report else None
    stale = report is not None and at is not None and now - at > 2 * timedelta(seconds=report.heartbeat_seconds) \
        + STALE_SLACK
    since = [s for s in subscriptions if at is None or s.changed_at > at]
    active = (report.active if report else 0) + sum(-1 if s.failing else 1 for s in since)
    return {
        "locality": code, "reported_at": at, "stale": stale,
        "active": max(0, active), "failing": sum(1 for s in subscriptions if s.failing),
        "undelivered": report.undelivered if report else 0, "oldest_undelivered_at": oldest,
        "oldest_undelivered_seconds": round(max(0.0, (now - oldest).total_seconds()), 1) if oldest else 0.0,
        "window_seconds": report.window_seconds if report else None,
        "delivered": report.delivered if report else 0,
        "latency_p50_seconds": report.latency_p50_seconds if report else None,
        "latency_p95_seconds": report.latency_p95_seconds if report else None,
    }


def webhook_panel(codes: Sequence[str], reports: Mapping[str, WebhookHealthReported],
                  subscriptions: Iterable[SubscriptionHealth], now: datetime) -> dict[str, Any]:
    """The panel for the localities ``codes`` (those the operator sees): figures, and the failing ones as alerts."""
    known = [s for s in subscriptions if s.locality in codes]
    failing = sorted((s for s in known if s.failing),
                     key=lambda s: (s.failing_since or s.changed_at, s.subscription_id))
    return {
        "now": now,
        "localities": [locality_health(c, reports.get(c), [s for s in known if s.locality == c], now) for c in codes],
        "failing": [{"subscription_id": s.subscription_id, "locality": s.locality, "url": s.url,
                     "failing_since": s.failing_since, "last_error": s.last_error, "undelivered": s.undelivered,
                     "known_at": s.changed_at} for s in failing],
    }
