"""Transactional outbox and inbox.

A service writes its state change and the events it causes in one database transaction: the
events go to the ``outbox`` table. :class:`OutboxRelay` publishes them, woken at once by each
commit (with a slow poll as a safety net for rows that a crashed process left behind), in id
order, and deletes a row only after the bus acknowledged it; while the bus is down it retries with
backoff and never drops a row. On PostgreSQL an advisory lock keeps one relay active per database
when a service is scaled out, so that each key's events leave in order.

The ``inbox`` table records the events each consumer group has handled, in the same transaction
as the handler's own changes: a redelivered event has no second effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.background import BackgroundTask
from shared.bus import Bus, BusUnavailable
from shared.db import is_postgres
from shared.envelope import Envelope, Record
from shared.metrics import ServiceMetrics

log = logging.getLogger("tongban.outbox")

_ID = BigInteger().with_variant(Integer(), "sqlite")


def outbox_table(metadata: MetaData) -> Table:
    """Define the ``outbox`` table in a service's metadata."""
    return Table(
        "outbox",
        metadata,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False),
        Column("topic", String(255), nullable=False),
        Column("record_key", LargeBinary, nullable=True),
        Column("headers", Text, nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


def inbox_table(metadata: MetaData) -> Table:
    """Define the ``inbox`` table (handled events per consumer group) in a service's metadata."""
    return Table(
        "inbox",
        metadata,
        Column("consumer_group", String(128), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(255), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )


def outbox_rows(envelope: Envelope, topics: Sequence[str]) -> list[dict[str, object]]:
    """The outbox rows that publish ``envelope`` on each of ``topics``."""
    headers = json.dumps([[k, v.decode("utf-8")] for k, v in envelope.headers()])
    value = envelope.value()
    now = datetime.now(UTC)
    return [
        {
            "event_id": envelope.id,
            "topic": topic,
            "record_key": envelope.subject.encode("utf-8"),
            "headers": headers,
            "value": value,
            "created_at": now,
        }
        for topic in topics
    ]


def _record(row: object) -> Record:
    headers = tuple((k, v.encode("utf-8")) for k, v in json.loads(row.headers))  # type: ignore[attr-defined]
    return Record(row.topic, row.record_key, row.value, headers)  # type: ignore[attr-defined]


# An arbitrary 64-bit number naming the relay's advisory lock; one database per service.
_RELAY_LOCK = 7_402_338_911


class OutboxRelay:
    """Publishes the outbox, promptly and in order, until stopped."""

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        bus: Bus,
        metrics: ServiceMetrics,
        *,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self.engine, self.table, self.bus, self.metrics = engine, table, bus, metrics
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._wake = asyncio.Event()
        self._task = BackgroundTask("outbox-relay", self._run)
        oldest = (select(table.c.id).where(text(f"pg_try_advisory_xact_lock({_RELAY_LOCK})"))
                  .order_by(table.c.id).limit(batch_size).scalar_subquery())
        self._take = delete(table).where(table.c.id.in_(oldest)).returning(*table.c)

    def notify(self) -> None:
        """Wake the relay: a transaction with events has just committed."""
        self._wake.set()

    def start(self) -> None:
        """Start relaying in the background."""
        self._task.start()

    async def stop(self) -> None:
        """Stop relaying; rows not yet published stay for the next start."""
        await self._task.stop()

    async def pending(self) -> int:
        """How many events wait in the outbox."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(self.table))).scalar_one())

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                published = await self.relay_once()
                backoff = 0.1
            except Exception as exc:  # the bus or the database is away: wait, then try again
                self.metrics.relay_failures.inc()
                log.warning(
                    "outbox relay failed; retrying",
                    extra={"error": repr(exc), "retry_in_seconds": backoff},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)
                continue
            if published < self.batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def relay_once(self) -> int:
        """Publish one batch of the oldest rows and delete them; the number published."""
        rows: Sequence[Row[Any]]
        if is_postgres(self.engine):
            # The transaction-scoped advisory lock is held while publishing, so that only one
            # replica of the service relays at a time and each key's events leave in order.
            # One statement takes the lock and removes the oldest batch, returning it; the removal
            # commits only after the bus acknowledged every row (a failure rolls it back).
            async with self.engine.begin() as conn:
                rows = sorted((await conn.execute(self._take)).all(), key=lambda r: r.id)
                if rows:
                    await self._publish(rows)
                else:
                    self.metrics.outbox_pending.set(0)
        else:
            # SQLite: one process per database; short transactions keep the writer lock free.
            async with self.engine.connect() as conn:
                rows = await self._oldest(conn)
            if rows:
                await self._publish(rows)
                async with self.engine.begin() as conn:
                    await conn.execute(delete(self.table).where(self.table.c.id.in_([r.id for r in rows])))
        self.metrics.events_published.inc(len(rows))
        return len(rows)

    async def _oldest(self, conn: AsyncConnection) -> Sequence[Row[Any]]:
        rows = (
            await conn.execute(select(self.table).order_by(self.table.c.id).limit(self.batch_size))
        ).all()
        if not rows:
            self.metrics.outbox_pending.set(0)
        return rows

    async def _publish(self, rows: Sequence[Row[Any]]) -> None:
        started = time.perf_counter()
        try:
            await self.bus.publish([_record(row) for row in rows])
        except BusUnavailable:
            self.metrics.outbox_pending.set(len(rows))
            raise
        self.metrics.publish_seconds.observe(time.perf_counter() - started)
