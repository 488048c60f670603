"""A minimal service of the test suite: the shared frame (outbox, inbox, dispatcher) on a test table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from shared.bus import Bus
from shared.consumer import EventDispatcher
from shared.envelope import Envelope, Event, event_type
from shared.localities import LocalityRegistry
from shared.metrics import ServiceMetrics
from shared.outbox import OutboxRelay, inbox_table, outbox_table
from shared.uow import UnitOfWork


@event_type
class Counted(Event):
    """A test event: one effect per event, in order per key."""

    type_name: ClassVar[str] = "cn.tongban.test.counted"

    key: str
    seq: int

    def subject(self) -> str:
        return self.key


metadata = MetaData()
effects = Table(
    "effects", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_key", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


@dataclass
class CountingService:
    """Engine, bus, relay and dispatcher of the test service."""

    engine: AsyncEngine
    bus: Bus
    localities: LocalityRegistry
    metrics: ServiceMetrics

    @classmethod
    async def create(cls, engine: AsyncEngine, bus: Bus, localities: LocalityRegistry) -> CountingService:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        return cls(engine, bus, localities, ServiceMetrics("test"))

    def relay(self) -> OutboxRelay:
        return OutboxRelay(self.engine, outbox, self.bus, self.metrics, poll_seconds=0.5, max_backoff_seconds=1)

    def uow(self, relay: OutboxRelay | None = None) -> UnitOfWork:
        return UnitOfWork(
            async_sessionmaker(self.engine, expire_on_commit=False), outbox, inbox, self.localities,
            "/tongban/test", relay.notify if relay else (lambda: None),
        )

    def dispatcher(self, group: str, on_event: object = None) -> EventDispatcher:
        async def record_effect(uow: UnitOfWork, _envelope: Envelope, event: Counted) -> None:
            await uow.session.execute(insert(effects).values(event_key=event.key, seq=event.seq))
            if on_event is not None:
                await on_event(event)  # type: ignore[operator]

        return EventDispatcher(
            group, {Counted.ce_type(): record_effect}, self.uow, self.bus, self.metrics,
            self.localities.dead_letter_topic_of,
        )

    async def effect_rows(self) -> list[tuple[str, int]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(effects.c.event_key, effects.c.seq).order_by(effects.c.id))
            return [(r[0], r[1]) for r in rows]

    async def effect_count(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(effects))).scalar_one())
