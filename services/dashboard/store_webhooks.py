"""The dashboard's tables of webhook health, and folding the webhooks service's events into them.

- ``webhook_subscriptions``: subscriptions the dashboard heard were failing (and whether they still
  are, as of when); rows that stopped failing are kept a week so that a late, older event cannot
  bring an alert back;
- ``webhook_health``: each locality's last health report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.dashboard.domain import Viewer
from services.dashboard.domain.webhook_health import (
    REPORT_TYPE,
    SubscriptionHealth,
    fold_subscription_event,
    parse_report,
    reconcile,
)
from services.dashboard.store import Base, utc
from shared.contracts.webhooks import WebhookHealthReported

KEEP_CLEARED = timedelta(days=7)


class WebhookSubscriptionRow(Base):
    """A subscription the webhooks service said was failing (or resumed), as of ``changed_at``."""

    __tablename__ = "webhook_subscriptions"

    subscription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    locality: Mapped[str] = mapped_column(String(16), index=True)
    failing: Mapped[bool] = mapped_column(Boolean)
    url: Mapped[str] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text)
    undelivered: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookHealthRow(Base):
    """A locality's last webhook health report."""

    __tablename__ = "webhook_health"

    locality: Mapped[str] = mapped_column(String(16), primary_key=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_seconds: Mapped[float] = mapped_column(Float)
    active: Mapped[int] = mapped_column(Integer)
    undelivered: Mapped[int] = mapped_column(Integer)
    oldest_undelivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    window_seconds: Mapped[float] = mapped_column(Float)
    delivered: Mapped[int] = mapped_column(Integer)
    latency_p50_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_p95_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)


_SUBSCRIPTION_FIELDS = ("locality", "failing", "url", "failing_since", "last_error", "undelivered", "changed_at")
_REPORT_FIELDS = ("reported_at", "heartbeat_seconds", "active", "undelivered", "oldest_undelivered_at",
                  "window_seconds", "delivered", "latency_p50_seconds", "latency_p95_seconds")


def _subscription(row: WebhookSubscriptionRow) -> SubscriptionHealth:
    return SubscriptionHealth(row.subscription_id, row.locality, row.failing, row.url,
                              utc(row.failing_since) if row.failing_since else None, row.last_error,
                              row.undelivered, utc(row.changed_at))


def _report(row: WebhookHealthRow) -> WebhookHealthReported:
    """The kept figures as the report they came in (its failing subscriptions are kept apart)."""
    values = {name: getattr(row, name) for name in _REPORT_FIELDS}
    values["reported_at"] = utc(row.reported_at)
    values["oldest_undelivered_at"] = utc(row.oldest_undelivered_at) if row.oldest_undelivered_at else None
    return WebhookHealthReported(locality=row.locality, failing=[], **values)


class WebhookHealthStore:
    """Reads and writes of the webhook health tables within one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def subscription(self, subscription_id: str) -> SubscriptionHealth | None:
        """What is known of one subscription."""
        row = await self.session.get(WebhookSubscriptionRow, subscription_id)
        return _subscription(row) if row else None

    async def subscriptions(self, localities: list[str]) -> list[SubscriptionHealth]:
        """What is known of the subscriptions of some localities."""
        rows = await self.session.scalars(select(WebhookSubscriptionRow).where(
            WebhookSubscriptionRow.locality.in_(localities)))
        return [_subscription(r) for r in rows]

    async def save_subscription(self, sub: SubscriptionHealth) -> None:
        """Store a subscription's state."""
        row = await self.session.get(WebhookSubscriptionRow, sub.subscription_id)
        if row is None:
            row = WebhookSubscriptionRow(subscription_id=sub.subscription_id)
            self.session.add(row)
        for name in _SUBSCRIPTION_FIELDS:
            setattr(row, name, getattr(sub, name))

    async def reports(self, localities: list[str]) -> dict[str, WebhookHealthReported]:
        """The last report of each of some localities."""
        rows = await self.session.scalars(select(WebhookHealthRow).where(WebhookHealthRow.locality.in_(localities)))
        return {r.locality: _report(r) for r in rows}

    async def save_report(self, report: WebhookHealthReported) -> bool:
        """Keep a report unless a later one is kept already; whether it was kept."""
        row = await self.session.get(WebhookHealthRow, report.locality)
        if row is not None and utc(row.reported_at) >= report.reported_at:
            return False
        if row is None:
            row = WebhookHealthRow(locality=report.locality)
            self.session.add(row)
        for name in _REPORT_FIELDS:
            setattr(row, name, getattr(report, name))
        return True

    async def prune(self, now: datetime) -> None:
        """Forget subscriptions that stopped failing more than a week ago."""
        await self.session.execute(delete(WebhookSubscriptionRow).where(
            WebhookSubscriptionRow.failing.is_(False), WebhookSubscriptionRow.changed_at < now - KEEP_CLEARED))


async def fold_webhook_event(session: AsyncSession, ce_type: str, data: Mapping[str, Any], at: datetime) -> None:
    """Apply one of the webhooks service's events (``ce_type`` without its version) to the tables."""
    store = WebhookHealthStore(session)
    if ce_type == REPORT_TYPE:
        report = parse_report(data)
        if report is None or not await store.save_report(report):
            return
        for changed in reconcile(await store.subscriptions([report.locality]), report):
            await store.save_subscription(changed)
        return
    sid = data.get("subscription_id")
    current = await store.subscription(sid) if isinstance(sid, str) else None
    folded = fold_subscription_event(current, ce_type, data, at)
    if folded is not None:
        await store.save_subscription(folded)


async def webhook_figures(session: AsyncSession, viewer: Viewer, codes: list[str]
                          ) -> tuple[list[str], dict[str, WebhookHealthReported], list[SubscriptionHealth]]:
    """The localities the viewer sees among ``codes``, their reports and their subscriptions' states."""
    visible = viewer.visible(codes)
    store = WebhookHealthStore(session)
    return visible, await store.reports(visible), await store.subscriptions(visible)
