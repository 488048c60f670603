"""The repository of deliveries and their log (tables in ``store.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.webhooks.domain import PENDING, Delivery
from services.webhooks.store import AttemptRow, DeliveryRow, SubscriptionRow, to_delivery, write_delivery


class DeliveryRepository:
    """Deliveries: which are due, in order per subject; their attempts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, delivery: Delivery, received_at: datetime) -> None:
        """A new delivery (in the transaction that read its event)."""
        row = DeliveryRow(id=delivery.id, received_at=received_at)
        write_delivery(row, delivery)
        self.session.add(row)

    async def get(self, delivery_id: str, for_update: bool = False) -> Delivery | None:
        """The delivery, or None."""
        row = await self.session.get(DeliveryRow, delivery_id, with_for_update=for_update)
        return to_delivery(row) if row else None

    async def received_at(self, delivery_id: str) -> datetime | None:
        """When the delivery's event was read from its topic."""
        row = await self.session.get(DeliveryRow, delivery_id)
        return row.received_at if row else None

    async def save(self, delivery: Delivery) -> None:
        """Write the delivery and append the attempts it recorded to the log."""
        row = await self.session.get(DeliveryRow, delivery.id)
        if row is None:
            raise LookupError(delivery.id)
        write_delivery(row, delivery)
        for attempt in delivery.recorded:
            self.session.add(AttemptRow(delivery_id=delivery.id, number=attempt.number, at=attempt.at,
                                        status_code=attempt.status_code, latency_ms=attempt.latency_ms,
                                        error=attempt.error[:1000]))
        delivery.recorded.clear()

    async def of_positions(self, subscription_id: str, positions: list[int]) -> dict[int, Delivery]:
        """The subscription's deliveries of some feed positions."""
        if not positions:
            return {}
        rows = await self.session.scalars(select(DeliveryRow).where(
            DeliveryRow.subscription_id == subscription_id, DeliveryRow.position.in_(positions)))
        return {r.position: to_delivery(r) for r in rows}

    async def due(self, now: datetime, limit: int, inflight: set[str] | None = None) -> list[Delivery]:
        """Deliveries to attempt now: of active subscriptions, each the first still waiting of its subject."""
        query = _eligible(select(DeliveryRow), inflight).where(DeliveryRow.next_attempt_at <= now)
        query = query.order_by(DeliveryRow.next_attempt_at, DeliveryRow.position).limit(limit)
        return [to_delivery(r) for r in await self.session.scalars(query)]

    async def next_due_at(self, inflight: set[str] | None = None) -> datetime | None:
        """The earliest time a delivery that :meth:`due` could return becomes due."""
        query = _eligible(select(func.min(DeliveryRow.next_attempt_at)), inflight)
        return (await self.session.execute(query)).scalar()

    async def pending_count(self, subscription_id: str) -> int:
        """How many deliveries of the subscription wait."""
        found = await self.session.execute(select(func.count()).select_from(DeliveryRow).where(
            DeliveryRow.subscription_id == subscription_id, DeliveryRow.state == PENDING))
        return int(found.scalar_one())

    async def restart_waiting(self, subscription_id: str, now: datetime) -> int:
        """Start every waiting delivery of the subscription again from now (a resume); how many."""
        result = await self.session.execute(
            update(DeliveryRow).where(DeliveryRow.subscription_id == subscription_id, DeliveryRow.state == PENDING)
            .values(first_attempt_at=None, next_attempt_at=now, round_start=DeliveryRow.attempts)
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    async def log(self, subscription_id: str, state: str | None, before: tuple[int, str] | None,
                  limit: int) -> list[Delivery]:
        """The subscription's deliveries, newest event first, after a cursor."""
        query = select(DeliveryRow).where(DeliveryRow.subscription_id == subscription_id)
        if state:
            query = query.where(DeliveryRow.state == state)
        if before:
            position, delivery_id = before
            query = query.where(or_(DeliveryRow.position < position,
                                    and_(DeliveryRow.position == position, DeliveryRow.id < delivery_id)))
        query = query.order_by(DeliveryRow.position.desc(), DeliveryRow.id.desc()).limit(limit)
        return [to_delivery(r) for r in await self.session.scalars(query)]

    async def attempts(self, delivery_ids: list[str]) -> dict[str, list[AttemptRow]]:
        """The attempts of some deliveries, in order."""
        found: dict[str, list[AttemptRow]] = {i: [] for i in delivery_ids}
        if delivery_ids:
            rows = await self.session.scalars(select(AttemptRow).where(AttemptRow.delivery_id.in_(delivery_ids))
                                              .order_by(AttemptRow.id))
            for row in rows:
                found[row.delivery_id].append(row)
        return found

    async def oldest_waiting(self) -> list[tuple[str, datetime | None, int]]:
        """Per locality: when the oldest waiting delivery's event was read, and how many wait."""
        rows = await self.session.execute(
            select(DeliveryRow.locality, func.min(DeliveryRow.received_at), func.count())
            .where(DeliveryRow.state == PENDING).group_by(DeliveryRow.locality))
        return [(r[0], r[1], int(r[2])) for r in rows]


def _eligible(query: Select[Any], inflight: set[str] | None) -> Select[Any]:
    """Waiting deliveries of active subscriptions with no earlier one of their subject waiting, not in flight."""
    earlier = aliased(DeliveryRow)
    blocked = select(earlier.id).where(
        earlier.subscription_id == DeliveryRow.subscription_id, earlier.subject == DeliveryRow.subject,
        earlier.state == PENDING, earlier.position < DeliveryRow.position).exists()
    query = (query.join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
             .where(SubscriptionRow.status == "active", DeliveryRow.state == PENDING, ~blocked))
    if inflight:
        query = query.where(DeliveryRow.id.not_in(inflight))
    return query
