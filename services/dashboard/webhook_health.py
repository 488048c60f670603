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

from services.dashboard.domain import mask_text

FAILING_TYPE = "cn.tongban.webhooks.subscription.failing"
RESUMED_TYPE = "cn.tongban.webhooks.subscription.resumed"
REPORT_TYPE = "cn.tongban.webhooks.health.reported"
WEBHOOK_TYPES = frozenset({FAILING_TYPE, RESUMED_TYPE, REPORT_TYPE})
STALE_SLACK = timedelta(seconds=30)
"""A report is stale when twice its heartbeat and this much have passed without another."""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


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


@dataclass(frozen=True)
class LocalityReport:
    """A locality's last health report."""

    locality: str
    reported_at: datetime
    heartbeat_seconds: float
    active: int
    undelivered: int
    oldest_undelivered_at: datetime | None
    window_seconds: float
    delivered: int
    latency_p50_seconds: float | None
    latency_p95_seconds: float | None


def fold_subscription_event(current: SubscriptionHealth | None, ce_type: str, data: Mapping[str, Any],
                            at: datetime) -> SubscriptionHealth | None:
    """A failing or resumed event applied; None when it changes nothing (malformed, or older than what is known)."""
    sid, locality = data.get("subscription_id"), data.get("locality")
    if not isinstance(sid, str) or not isinstance(locality, str) or ce_type not in (FAILING_TYPE, RESUMED_TYPE):
        return None
    if current is not None and current.changed_at >= at:
        return None
    failing = ce_type == FAILING_TYPE
    return SubscriptionHealth(
        subscription_id=sid[:64], locality=locality[:16], failing=failing,
        url=mask_text(str(data.get("url") or ""))[:2000],
        failing_since=_time(data.get("failing_since")) if failing else None,
        last_error=mask_text(str(data.get("last_error") or ""))[:1000] if failing else "",
        undelivered=_int(data.get("undelivered")), changed_at=at)


def parse_report(data: Mapping[str, Any]) -> LocalityReport | None:
    """A health report's figures; None when it is malformed."""
    locality, at = data.get("locality"), _time(data.get("reported_at"))
    if not isinstance(locality, str) or at is None:
        return None
    return LocalityReport(
        locality=locality[:16], reported_at=at, heartbeat_seconds=_seconds(data.get("heartbeat_seconds")) or 300.0,
        active=_int(data.get("active")), undelivered=_int(data.get("undelivered")),
        oldest_undelivered_at=_time(data.get("oldest_undelivered_at")),
        window_seconds=_seconds(data.get("window_seconds")) or 0.0, delivered=_int(data.get("delivered")),
        latency_p50_seconds=_seconds(data.get("latency_p50_seconds")),
        latency_p95_seconds=_seconds(data.get("latency_p95_seconds")))


def reconcile(known: Iterable[SubscriptionHealth], report: LocalityReport,
              failing: Sequence[Mapping[str, Any]]) -> list[SubscriptionHealth]:
    """The subscriptions of the report's locality that the report changes (those known before it only).

    A subscription the report names is failing (with the report's count of its waiting deliveries);
    one it does not name is not failing any more (resumed, or deleted, which publishes no event).
    """
    named = {str(f["subscription_id"])[:64]: f for f in failing if isinstance(f.get("subscription_id"), str)}
    at = report.reported_at
    by_id = {k.subscription_id: k for k in known if k.locality == report.locality}
    changed: list[SubscriptionHealth] = []
    for sid, current in by_id.items():
        if sid not in named and current.failing and current.changed_at < at:
            changed.append(replace(current, failing=False, failing_since=None, last_error="", undelivered=0,
                                   changed_at=at))
    for sid, figure in named.items():
        before = by_id.get(sid)
        if before is not None and before.changed_at >= at:
            continue
        changed.append(SubscriptionHealth(
            subscription_id=sid, locality=report.locality, failing=True,
            url=mask_text(str(figure.get("url") or ""))[:2000], failing_since=_time(figure.get("failing_since")),
            last_error=mask_text(str(figure.get("last_error") or ""))[:1000],
            undelivered=_int(figure.get("undelivered")), changed_at=at))
    return changed


def locality_health(code: str, report: LocalityReport | None, subscriptions: Sequence[SubscriptionHealth],
                    now: datetime) -> dict[str, Any]:
    """One locality's row of the panel: the report's figures, the age of the oldest waiting delivery now.

    The count of active subscriptions is the report's, corrected by the failing and resumed events
    heard since it was taken, so that it agrees with the alerts until the next report.
    """
    oldest = report.oldest_undelivered_at if report else None
    stale = report is not None and now - report.reported_at > 2 * timedelta(seconds=report.heartbeat_seconds) \
        + STALE_SLACK
    since = [s for s in subscriptions if report is None or s.changed_at > report.reported_at]
    active = (report.active if report else 0) + sum(-1 if s.failing else 1 for s in since)
    return {
        "locality": code, "reported_at": report.reported_at if report else None, "stale": stale,
        "active": max(0, active), "failing": sum(1 for s in subscriptions if s.failing),
        "undelivered": report.undelivered if report else 0, "oldest_undelivered_at": oldest,
        "oldest_undelivered_seconds": round(max(0.0, (now - oldest).total_seconds()), 1) if oldest else 0.0,
        "window_seconds": report.window_seconds if report else None,
        "delivered": report.delivered if report else 0,
        "latency_p50_seconds": report.latency_p50_seconds if report else None,
        "latency_p95_seconds": report.latency_p95_seconds if report else None,
    }


def webhook_panel(codes: Sequence[str], reports: Mapping[str, LocalityReport],
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
