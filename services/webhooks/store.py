"""Tables and repositories of the webhooks service (its own database).

- ``feed_events``: each locality's CloudEvents as its topic carried them, numbered 1, 2, 3, ... per
  locality in the order they were read (a row lock on ``feed_heads`` hands out the numbers, so they
  also commit in that order and a reader paging by position never passes over one);
- ``subscriptions`` with their secrets sealed (AES-GCM under a key derived from the master secret);
- ``deliveries`` (one event to one subscription) and ``delivery_attempts``, the delivery log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.webhooks.domain import PENDING, Delivery, SigningSecret, Subscription
from shared.keys import KeySet
from shared.outbox import inbox_table, outbox_table
from shared.sealing import open_text, seal_text


class Base(DeclarativeBase):
    """Declarative base of the webhooks service's own metadata."""

    metadata = MetaData()


class FeedHeadRow(Base):
    """The last position handed out in a locality's feed (locked while the next one is taken)."""

    __tablename__ = "feed_heads"

    locality: Mapped[str] = mapped_column(String(6), primary_key=True)
    last_position: Mapped[int] = mapped_column(BigInteger)


class FeedEventRow(Base):
    """One CloudEvent of a locality's topic, in structured JSON, exactly as it is delivered."""

    __tablename__ = "feed_events"
    __table_args__ = (UniqueConstraint("locality", "event_id", name="uq_feed_events_locality_event"),)

    locality: Mapped[str] = mapped_column(String(6), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    body: Mapped[str] = mapped_column(Text)


class SubscriptionRow(Base):
    """A locality's webhook subscription."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    locality: Mapped[str] = mapped_column(String(6), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True)
    secrets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Sealed secrets with their creation and expiry times, the current one first."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


class DeliveryRow(Base):
    """One event's delivery to one subscription."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "position", name="uq_deliveries_subscription_position"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_order", "subscription_id", "subject", "state", "position"),
        Index("ix_deliveries_delivered", "delivered_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(40))
    locality: Mapped[str] = mapped_column(String(6))
    position: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    webhook_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    round_start: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the event was read from its topic: delivery latency counts from here."""


class AttemptRow(Base):
    """One attempt of a delivery: the delivery log."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(40), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str] = mapped_column(Text, default="")


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


SECRET_SEAL_KEY = "secret-seal"
"""The webhooks service's own key (shared/keys.py) that seals subscription secrets at rest."""


class Sealer:
    """Seals subscription secrets at rest (AES-256-GCM under the versioned ``secret-seal`` key)."""

    def __init__(self, keys: KeySet) -> None:
        self._keys = keys

    def seal(self, secret: str) -> str:
        """The secret, encrypted under the key's current version, as text naming that version."""
        return seal_text(self._keys, secret, "webhook-secret")

    def open(self, sealed: str) -> str:
        """The secret a sealed text holds (under any version the key file still lists)."""
        return open_text(self._keys, sealed, "webhook-secret")


def utc(moment: datetime) -> datetime:
    """A time read back from the database, in UTC (SQLite keeps no time zone; everything is written in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return utc(moment) if moment is not None else None


def to_subscription(row: SubscriptionRow, sealer: Sealer) -> Subscription:
    """The aggregate of a row (its secrets opened)."""
    secrets = tuple(
        SigningSecret(sealer.open(s["sealed"]), utc(datetime.fromisoformat(s["created_at"])),
                      utc(datetime.fromisoformat(s["expires_at"])) if s.get("expires_at") else None)
        for s in row.secrets
    )
    return Subscription(id=row.id, locality=row.locality, url=row.url, event_types=tuple(row.event_types),
                        description=row.description, secrets=secrets, created_at=utc(row.created_at),
                        status=row.status, failing_since=_utc_or_none(row.failing_since), last_error=row.last_error)


def write_subscription(row: SubscriptionRow, sub: Subscription, sealer: Sealer, now: datetime) -> None:
    """Copy the aggregate's state onto its row (secrets sealed afresh)."""
    row.locality, row.url, row.event_types, row.description = sub.locality, sub.url, list(sub.event_types), \
        sub.description
    row.status, row.failing_since, row.last_error, row.created_at = sub.status, sub.failing_since, \
        sub.last_error, sub.created_at
    row.secrets = [{"sealed": sealer.seal(s.value), "created_at": s.created_at.isoformat(),
                    "expires_at": s.expires_at.isoformat() if s.expires_at else None} for s in sub.secrets]
    row.updated_at = now


DELIVERY_TIMES = ("created_at", "first_attempt_at", "next_attempt_at", "delivered_at")
DELIVERY_FIELDS = ("subscription_id", "locality", "position", "event_id", "event_type", "subject", "webhook_id",
                   "created_at", "state", "attempts", "round_start", "first_attempt_at", "next_attempt_at",
                   "last_status", "last_error", "last_latency_ms", "delivered_at")


def to_delivery(row: DeliveryRow) -> Delivery:
    """The aggregate of a row."""
    values = {name: getattr(row, name) for name in DELIVERY_FIELDS}
    for name in DELIVERY_TIMES:
        values[name] = _utc_or_none(values[name])
    return Delivery(id=row.id, **values)


def write_delivery(row: DeliveryRow, delivery: Delivery) -> None:
    """Copy the aggregate's state onto its row."""
    for name in DELIVERY_FIELDS:
        setattr(row, name, getattr(delivery, name))


class FeedRepository:
    """Each locality's feed of CloudEvents.

    Appending takes each locality's head row once per transaction (locked until it ends, so
    positions commit in order) and keeps the new events until :meth:`write`, which inserts them
    all in one statement: a fetch of a hundred events costs one lock and one insert per feed,
    not a locking read, an update and an insert per event.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._heads: dict[str, FeedHeadRow] = {}
        self._unwritten: list[dict[str, Any]] = []

    async def held(self, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of the (locality, event id) pairs the feeds hold already (one query for a fetch)."""
        if not pairs:
            return set()
        found = await self.session.execute(select(FeedEventRow.locality, FeedEventRow.event_id).where(
            tuple_(FeedEventRow.locality, FeedEventRow.event_id).in_(sorted(set(pairs)))))
        return {(locality, event_id) for locality, event_id in found}

    async def _head(self, locality: str) -> FeedHeadRow:
        head = self._heads.get(locality)
        if head is None:
            head = await self.session.get(FeedHeadRow, locality, with_for_update=True)
            if head is None:
                head = FeedHeadRow(locality=locality, last_position=0)
                self.session.add(head)
            self._heads[locality] = head
        return head

    async def append(self, locality: str, event_id: str, event_type: str, subject: str, event_time: datetime,
                     body: str, received_at: datetime) -> int:
        """Give an event the next position of the locality's feed; the position. :meth:`write` stores it."""
        head = await self._head(locality)
        head.last_position += 1
        self._unwritten.append({"locality": locality, "position": head.last_position, "event_id": event_id,
                                "event_type": event_type, "subject": subject, "event_time": event_time,
                                "received_at": received_at, "body": body})
        return head.last_position

    async def write(self) -> int:
        """Insert the appended events (one statement); how many. Call it before the commit."""
        rows, self._unwritten = self._unwritten, []
        if rows:
            await self.session.execute(insert(FeedEventRow), rows)
        return len(rows)

    async def page(self, locality: str, after: int, limit: int) -> list[FeedEventRow]:
        """The events after position ``after``, in order."""
        rows = await self.session.scalars(select(FeedEventRow).where(
            FeedEventRow.locality == locality, FeedEventRow.position > after
        ).order_by(FeedEventRow.position).limit(limit))
        return list(rows)

    async def since(self, locality: str, moment: datetime) -> list[FeedEventRow]:
        """The events whose CloudEvents time is at or after ``moment``, in order."""
        rows = await self.session.scalars(select(FeedEventRow).where(
            FeedEventRow.locality == locality, FeedEventRow.event_time >= moment
        ).order_by(FeedEventRow.position))
        return list(rows)

    async def get(self, locality: str, position: int) -> FeedEventRow | None:
        """One event of the feed."""
        return await self.session.get(FeedEventRow, (locality, position))

    async def bodies(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], FeedEventRow]:
        """Events by (locality, position)."""
        if not keys:
            return {}
        rows = await self.session.scalars(select(FeedEventRow).where(
            tuple_(FeedEventRow.locality, FeedEventRow.position).in_(keys)))
        return {(r.locality, r.position): r for r in rows}

    async def bounds(self, locality: str) -> tuple[int | None, int]:
        """The oldest position still kept (None when the feed is empty) and the last position handed out."""
        oldest = (await self.session.execute(select(func.min(FeedEventRow.position)).where(
            FeedEventRow.locality == locality))).scalar()
        head = await self.session.get(FeedHeadRow, locality)
        return (int(oldest) if oldest is not None else None), (head.last_position if head else 0)

    async def prune(self, before: datetime) -> int:
        """Drop events read before ``before`` that no delivery still waits for; how many."""
        waiting = select(DeliveryRow.position).where(
            DeliveryRow.locality == FeedEventRow.locality, DeliveryRow.position == FeedEventRow.position,
            DeliveryRow.state == PENDING).exists()
        result = await self.session.execute(delete(FeedEventRow).where(
            FeedEventRow.received_at < before, ~waiting).execution_options(synchronize_session=False))
        await self.session.execute(delete(DeliveryRow).where(
            DeliveryRow.created_at < before, DeliveryRow.state != PENDING).execution_options(
            synchronize_session=False))
        await self.session.execute(delete(AttemptRow).where(
            ~select(DeliveryRow.id).where(DeliveryRow.id == AttemptRow.delivery_id).exists()
        ).execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)


class SubscriptionRepository:
    """Subscriptions, their secrets sealed."""

    def __init__(self, session: AsyncSession, sealer: Sealer) -> None:
        self.session, self.sealer = session, sealer

    async def get(self, subscription_id: str, for_update: bool = False) -> Subscription | None:
        """The subscription, or None."""
        row = await self.session.get(SubscriptionRow, subscription_id, with_for_update=for_update)
        return to_subscription(row, self.sealer) if row else None

    async def of_locality(self, locality: str) -> list[Subscription]:
        """A locality's subscriptions, oldest first."""
        rows = await self.session.scalars(select(SubscriptionRow).where(
            SubscriptionRow.locality == locality).order_by(SubscriptionRow.created_at, SubscriptionRow.id))
        return [to_subscription(r, self.sealer) for r in rows]

    async def many(self, ids: list[str]) -> dict[str, Subscription]:
        """Subscriptions by id."""
        if not ids:
            return {}
        rows = await self.session.scalars(select(SubscriptionRow).where(SubscriptionRow.id.in_(ids)))
        return {r.id: to_subscription(r, self.sealer) for r in rows}

    async def save(self, sub: Subscription, now: datetime) -> None:
        """Insert or update the subscription."""
        row = await self.session.get(SubscriptionRow, sub.id)
        if row is None:
            row = SubscriptionRow(id=sub.id)
            self.session.add(row)
        write_subscription(row, sub, self.sealer, now)

    async def delete(self, subscription_id: str) -> None:
        """Remove the subscription with its deliveries and their log."""
        ids = select(DeliveryRow.id).where(DeliveryRow.subscription_id == subscription_id)
        await self.session.execute(delete(AttemptRow).where(AttemptRow.delivery_id.in_(ids)))
        await self.session.execute(delete(DeliveryRow).where(DeliveryRow.subscription_id == subscription_id))
        await self.session.execute(delete(SubscriptionRow).where(SubscriptionRow.id == subscription_id))

    async def counts(self) -> list[tuple[str, str, int]]:
        """(locality, status, count) of every subscription."""
        rows = await self.session.execute(select(SubscriptionRow.locality, SubscriptionRow.status, func.count())
                                          .group_by(SubscriptionRow.locality, SubscriptionRow.status))
        return [(r[0], r[1], int(r[2])) for r in rows]
