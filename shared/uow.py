"""Unit of work: one database transaction holding a state change and the events it causes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.envelope import Envelope, Event
from shared.localities import LocalityRegistry
from shared.observability import current_traceparent
from shared.outbox import outbox_rows


class UnitOfWork:
    """A transaction of one service. ``publish`` adds events to the outbox in the same transaction.

    Use as ``async with uow_factory() as uow: ...; await uow.commit()``; leaving the block without
    committing rolls everything back, events included.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Table,
        inbox: Table,
        localities: LocalityRegistry,
        source: str,
        on_commit: Callable[[], None],
        on_publish: Callable[[], None] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._outbox, self._inbox = outbox, inbox
        self.localities = localities
        self.source = source
        self._on_commit = on_commit
        self._on_publish = on_publish
        self._rows: list[dict[str, object]] = []
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessionmaker()
        self._rows = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends the transaction (rolled back unless committed) and detaches what was loaded,
        # without expiring it, so that results read in the block stay usable after it.
        self._rows = []
        await self.session.close()

    def publish(self, event: Event, localities: Iterable[str]) -> Envelope:
        """Publish ``event`` on the topic of each locality, when this unit of work commits."""
        envelope = Envelope.wrap(event, self.source, traceparent=current_traceparent())
        topics = list(dict.fromkeys(self.localities.topic(code) for code in localities))
        if not topics:
            raise ValueError(f"event {envelope.type} names no locality")
        self._rows.extend(outbox_rows(envelope, topics))
        return envelope

    def publish_everywhere(self, event: Event) -> Envelope:
        """Publish ``event`` on every locality's topic."""
        return self.publish(event, self.localities.codes)

    async def commit(self) -> None:
        """Commit the state change and its events together, then wake the outbox relay (and listeners).

        ``on_publish`` (the relay) is called only when the transaction wrote events: a relay woken
        for nothing costs a transaction of its own. ``on_commit`` is called after every commit.
        """
        rows, self._rows = self._rows, []
        if rows:
            await self.session.execute(insert(self._outbox), rows)
        await self.session.commit()
        if rows and self._on_publish is not None:
            self._on_publish()
        self._on_commit()

    async def rollback(self) -> None:
        """Drop the state change and its events."""
        self._rows = []
        await self.session.rollback()

    async def already_handled(self, group: str, event_id: str) -> bool:
        """Whether ``group`` has handled the event ``event_id`` before."""
        found = await self.session.execute(
            select(self._inbox.c.event_id).where(
                self._inbox.c.consumer_group == group, self._inbox.c.event_id == event_id
            )
        )
        return found.first() is not None

    async def mark_handled(self, group: str, envelope: Envelope) -> None:
        """Record, in this transaction, that ``group`` handled ``envelope``."""
        await self.session.execute(
            insert(self._inbox).values(
                consumer_group=group,
                event_id=envelope.id,
                event_type=envelope.type,
                handled_at=datetime.now(UTC),
            )
        )

    async def handled_among(self, group: str, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` ``group`` has handled before (one query for a fetched batch)."""
        if not event_ids:
            return set()
        found = await self.session.execute(
            select(self._inbox.c.event_id).where(
                self._inbox.c.consumer_group == group, self._inbox.c.event_id.in_(list(event_ids))
            )
        )
        return {row[0] for row in found}

    async def mark_many_handled(self, group: str, envelopes: Sequence[Envelope]) -> None:
        """Record, in this transaction, that ``group`` handled each of ``envelopes`` (one bulk insert)."""
        if not envelopes:
            return
        now = datetime.now(UTC)
        await self.session.execute(
            insert(self._inbox),
            [{"consumer_group": group, "event_id": e.id, "event_type": e.type, "handled_at": now}
             for e in envelopes],
        )
