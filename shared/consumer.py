"""Consuming locality topics: decode, dead-letter the bad, handle each event once in effect.

A malformed record, or one of an unknown type, goes to the dead-letter topic beside its topic
with the reason in the ``tongban_dlt_reason`` header, and the consumer goes on. A handler runs in
a unit of work that also records the event in the inbox, so a redelivered event is skipped. A
handler that fails because the database is away is retried until it succeeds; one that keeps
failing otherwise is dead-lettered after a few attempts with the error as its reason.

The Kafka bus hands a whole fetch to :meth:`EventDispatcher.handle_batch`: the events of the batch
that this group handles are applied in one unit of work, with one inbox query, one bulk inbox
insert and one commit. When anything in it fails, the batch is rolled back and every event is
handled again on its own (the path above, with its retries and dead letters), so a batch is never
worse than the events one by one.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from shared.bus import Bus
from shared.db import is_transient
from shared.envelope import Envelope, Event, MalformedEvent, Record, parse_record
from shared.metrics import ServiceMetrics
from shared.observability import trace_context
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.consumer")

ContextHandler = Callable[[UnitOfWork, Envelope, Any, Any], Awaitable[None]]
"""A handler that also takes the running service's context (``shared.service.ServiceContext``: its
settings and its ``state``, such as routing's calendar keeper) as its fourth argument."""
EventHandler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]] | ContextHandler
"""Applies one event inside a unit of work; the dispatcher commits it. Registered under its
CloudEvents type, or under ``"*"`` for every type that has no handler of its own. A handler with a
fourth parameter is given the service's context there (:data:`ContextHandler`)."""


def takes_context(handler: EventHandler) -> bool:
    """Whether a handler is a :data:`ContextHandler` (four parameters)."""
    return len(inspect.signature(handler).parameters) == 4

BatchObserver = Callable[[Sequence[Record]], Awaitable[None]]
"""Sees the raw records of a fetch together (one record at a time on the in-process bus)."""


@dataclass(frozen=True)
class _Work:
    record: Record
    handler: EventHandler
    envelope: Envelope
    event: Event


class EventDispatcher:
    """The record handler of one consumer group: dead letters, inbox, retries."""

    def __init__(
        self,
        group: str,
        handlers: dict[str, EventHandler],
        uow_factory: Callable[[], UnitOfWork],
        bus: Bus,
        metrics: ServiceMetrics,
        dead_letter_topic: Callable[[str], str],
        max_attempts: int = 5,
        observers: list[Callable[[Envelope, Event], None]] | None = None,
        record_observers: list[Callable[[Record], Awaitable[None]]] | None = None,
        batch_observers: list[BatchObserver] | None = None,
        context: Any = None,
    ) -> None:
        self.group = group
        self.handlers = handlers
        self.uow_factory = uow_factory
        self.bus = bus
        self.metrics = metrics
        self.dead_letter_topic = dead_letter_topic
        self.max_attempts = max_attempts
        self.observers = observers or []
        self.record_observers = record_observers or []
        self.batch_observers = batch_observers or []
        self.context = context
        """What a :data:`ContextHandler` is given: the running service's context."""
        self._recent: OrderedDict[str, None] = OrderedDict()
        """Ids of events this member handled (their inbox rows committed), most recent last.

        An event published to several localities' topics reaches the group once per topic; the
        copies after the first are skipped here without a database transaction. What is not in this
        bounded memory (older events, a restart, another member) is still caught by the inbox.
        """

    async def __call__(self, record: Record) -> None:
        for batch_watch in self.batch_observers:
            await batch_watch([record])
        work = await self._prepare(record)
        if work is not None:
            with trace_context(work.envelope.traceparent):
                await self._handle(work.record, work.handler, work.envelope, work.event)

    async def handle_batch(self, records: Sequence[Record]) -> None:
        """Handle the records of one fetch (in order per partition): one transaction for all of them."""
        for batch_watch in self.batch_observers:
            await batch_watch(records)
        work: list[_Work] = []
        for record in records:
            item = await self._prepare(record)
            if item is not None:
                work.append(item)
        if len(work) > 1:
            try:
                await self._handle_together(work)
                return
            except Exception as exc:  # one by one, with retries and dead letters, as without batches
                log.info("batch handled one by one", extra={"group": self.group, "events": len(work),
                                                            "error": repr(exc)})
        for item in work:
            with trace_context(item.envelope.traceparent):
                await self._handle(item.record, item.handler, item.envelope, item.event)

    async def _prepare(self, record: Record) -> _Work | None:
        """Decode a record (dead-lettering the malformed); what to handle, or None."""
        for watch in self.record_observers:
            await watch(record)
        if record.topic.endswith(".dlt"):
            return None  # dead letters are only watched, never handled or dead-lettered again
        try:
            envelope, event = parse_record(record)
        except MalformedEvent as exc:
            await self.dead_letter(record, exc.reason)
            return None
        for observe in self.observers:
            observe(envelope, event)
        handler = self.handlers.get(envelope.type) or self.handlers.get("*")
        if handler is None:
            return None  # a known event that this service does not react to
        if envelope.id in self._recent:
            self.metrics.events_duplicate.inc()
            return None
        return _Work(record, handler, envelope, event)

    async def _handle_together(self, work: list[_Work]) -> None:
        """Apply the events in one unit of work: one inbox query, one bulk inbox insert, one commit."""
        async with self.uow_factory() as uow:
            seen = await uow.handled_among(self.group, [w.envelope.id for w in work])
            todo: list[_Work] = []
            for item in work:
                if item.envelope.id in seen:  # handled before, or read on a second topic of this fetch
                    continue
                seen.add(item.envelope.id)
                todo.append(item)
            for item in todo:
                with trace_context(item.envelope.traceparent):
                    await self._apply(item.handler, uow, item.envelope, item.event)
                await uow.session.flush()
            await uow.mark_many_handled(self.group, [w.envelope for w in todo])
            await uow.commit()
        for item in todo:
            self._remember(item.envelope.id)
            self.metrics.events_handled(type=item.envelope.type).inc()
        if len(work) > len(todo):
            self.metrics.events_duplicate.inc(len(work) - len(todo))

    async def _handle(
        self, record: Record, handler: EventHandler, envelope: Envelope, event: Event
    ) -> None:
        attempt, delay = 0, 0.2
        while True:
            attempt += 1
            try:
                await self.handle_once(handler, envelope, event)
                return
            except Exception as exc:
                if is_transient(exc):
                    log.warning(
                        "handler waits for the database",
                        extra={"group": self.group, "event_id": envelope.id, "error": repr(exc)},
                    )
                    attempt = 0
                elif attempt >= self.max_attempts:
                    log.exception("handler gave up", extra={"event_id": envelope.id})
                    await self.dead_letter(record, f"handler failed: {type(exc).__name__}: {exc}")
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _apply(self, handler: EventHandler, uow: UnitOfWork, envelope: Envelope, event: Event) -> None:
        """Call a handler, giving a :data:`ContextHandler` the service's context."""
        if takes_context(handler):
            await handler(uow, envelope, event, self.context)  # type: ignore[call-arg]
        else:
            await handler(uow, envelope, event)  # type: ignore[call-arg]

    async def handle_once(self, handler: EventHandler, envelope: Envelope, event: Event) -> None:
        """Apply one event in a unit of work with its inbox row; skip it if seen before."""
        async with self.uow_factory() as uow:
            if await uow.already_handled(self.group, envelope.id):
                self.metrics.events_duplicate.inc()
                self._remember(envelope.id)
                return
            await self._apply(handler, uow, envelope, event)
            await uow.session.flush()
            try:
                await uow.mark_handled(self.group, envelope)
                await uow.commit()
            except IntegrityError:
                # Another member of the group handled it at the same moment: once in effect.
                self.metrics.events_duplicate.inc()
                self._remember(envelope.id)
                return
        self._remember(envelope.id)
        self.metrics.events_handled(type=envelope.type).inc()

    def _remember(self, event_id: str, keep: int = 4096) -> None:
        self._recent[event_id] = None
        if len(self._recent) > keep:
            self._recent.popitem(last=False)

    async def dead_letter(self, record: Record, reason: str) -> None:
        """Copy ``record`` to its dead-letter topic with the reason; retried until acknowledged."""
        headers = (
            *record.headers,
            ("tongban_dlt_reason", reason.encode("utf-8")),
            ("tongban_dlt_group", self.group.encode("utf-8")),
            ("tongban_dlt_topic", record.topic.encode("utf-8")),
            ("tongban_dlt_partition", str(record.partition).encode()),
            ("tongban_dlt_offset", str(record.offset).encode()),
        )
        letter = Record(self.dead_letter_topic(record.topic), record.key, record.value, headers)
        delay = 0.2
        while True:
            try:
                await self.bus.publish([letter])
                break
            except Exception as exc:
                log.warning("dead-letter publish failed", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.metrics.events_dead_lettered(reason=reason.split(":")[0][:60]).inc()
        log.warning(
            "record dead-lettered",
            extra={"topic": record.topic, "offset": record.offset, "reason": reason},
        )
