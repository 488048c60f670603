"""What the health reports read and remember (tables in ``store.py`` plus ``health_reports``).

- ``health_reports``: per locality, the summary and time of the last report published, so that a
  report goes out only when the figures changed or the heartbeat is due (whichever replica looks);
- the figures themselves: subscriptions by status (read ``FOR SHARE``, so a transaction marking one
  failing or resuming it commits before they are read, or starts after), waiting deliveries per
  subscription and the oldest per locality, and the latencies of recent deliveries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.webhooks.domain import DELIVERED, PENDING
from services.webhooks.domain.health import HealthFigures
from services.webhooks.store import Base, DeliveryRow, SubscriptionRow, utc
from shared.contracts.webhooks import FailingSubscription

_REPORT_LOCK = 7_402_338_914
LATENCY_ROWS = 20_000
"""At most this many recent deliveries are read for the latency percentiles (the newest)."""


class HealthReportRow(Base):
    """The last health report published for a locality."""

    __tablename__ = "health_reports"

    locality: Mapped[str] = mapped_column(String(6), primary_key=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HealthRepository:
    """The figures of every locality, and the last reports."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self) -> None:
        """One reporter at a time across replicas (PostgreSQL; SQLite has one process)."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text(f"SELECT pg_advisory_xact_lock({_REPORT_LOCK})"))

    async def last_reports(self) -> dict[str, HealthReportRow]:
        """The last report of each locality."""
        return {r.locality: r for r in await self.session.scalars(select(HealthReportRow))}

    async def remember(self, locality: str, summary: dict[str, Any], at: datetime) -> None:
        """Keep what was just reported."""
        row = await self.session.get(HealthReportRow, locality)
        if row is None:
            self.session.add(HealthReportRow(locality=locality, summary=summary, reported_at=at))
            return
        row.summary, row.reported_at = summary, at

    async def figures(self, localities: list[str], since: datetime) -> dict[str, HealthFigures]:
        """Each locality's figures now; latencies of the deliveries accepted at or after ``since``."""
        subs = list(await self.session.scalars(
            select(SubscriptionRow).order_by(SubscriptionRow.created_at, SubscriptionRow.id)
            .with_for_update(read=True)))
        pending = {sid: int(n) for sid, n in await self.session.execute(
            select(DeliveryRow.subscription_id, func.count()).where(DeliveryRow.state == PENDING)
            .group_by(DeliveryRow.subscription_id))}
        waiting = {loc: (utc(oldest) if oldest else None, int(n)) for loc, oldest, n in await self.session.execute(
            select(DeliveryRow.locality, func.min(DeliveryRow.received_at), func.count())
            .where(DeliveryRow.state == PENDING).group_by(DeliveryRow.locality))}
        latencies: dict[str, list[float]] = {}
        for loc, received, delivered in await self.session.execute(
                select(DeliveryRow.locality, DeliveryRow.received_at, DeliveryRow.delivered_at)
                .where(DeliveryRow.state == DELIVERED, DeliveryRow.delivered_at >= since)
                .order_by(DeliveryRow.delivered_at.desc()).limit(LATENCY_ROWS)):
            if delivered is not None:
                latencies.setdefault(loc, []).append(max(0.0, (utc(delivered) - utc(received)).total_seconds()))
        found: dict[str, HealthFigures] = {}
        for code in localities:
            mine = [s for s in subs if s.locality == code]
            oldest, undelivered = waiting.get(code, (None, 0))
            found[code] = HealthFigures(
                locality=code, active=sum(1 for s in mine if s.status == "active"),
                failing=tuple(FailingSubscription(subscription_id=s.id, url=s.url,
                                                  failing_since=utc(s.failing_since) if s.failing_since else None,
                                                  last_error=s.last_error, undelivered=pending.get(s.id, 0))
                              for s in mine if s.status == "failing"),
                undelivered=undelivered, oldest_undelivered_at=oldest, latencies=tuple(latencies.get(code, ())))
        return found
