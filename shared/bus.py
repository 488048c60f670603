"""The event bus: one interface, two backends.

:class:`~shared.kafka_bus.KafkaBus` talks to Apache Kafka through aiokafka (idempotent producer, acks=all, one
consumer group per service, offsets committed only after the handler returned, which is after
the handler's own transaction committed). :class:`MemoryBus` keeps partitioned logs and committed
offsets in the process, with the same semantics, for the embedded system. The same contract tests
run on both (``tests/integration/test_bus_contract.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from shared.envelope import Record

if TYPE_CHECKING:
    from shared.kafka_security import KafkaSecurity

log = logging.getLogger("tongban.bus")

RecordHandler = Callable[[Record], Awaitable[None]]
"""Handles one record. Returning means "done": the bus may then commit its offset."""


class BusUnavailable(RuntimeError):
    """The bus could not take or deliver records now; the caller retries later."""


class Subscription(ABC):
    """A running member of a consumer group."""

    @abstractmethod
    async def stop(self) -> None:
        """Leave the group; what was handled is committed, nothing else."""


class Bus(ABC):
    """Publish records and consume them in consumer groups."""

    @abstractmethod
    async def start(self) -> None:
        """Connect."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop every subscription and disconnect."""

    @abstractmethod
    async def ensure_topics(self, topics: Sequence[str], partitions: int, replication: int) -> None:
        """Create the topics that do not exist yet."""

    @abstractmethod
    async def publish(self, records: Sequence[Record]) -> None:
        """Publish records and wait until every one is acknowledged.

        Records of one key keep their order. Raises :class:`BusUnavailable` when they could not
        all be acknowledged; some may then have been written (the caller's retry may duplicate
        them, which consumers absorb through their inbox).
        """

    @abstractmethod
    async def subscribe(
        self, group: str, topics: Sequence[str], handler: RecordHandler
    ) -> Subscription:
        """Join ``group`` on ``topics`` and hand each record to ``handler``, in order per partition."""

    @abstractmethod
    async def healthy(self) -> bool:
        """Whether the bus answers now."""


def partition_for(key: bytes | None, partitions: int, counter: int) -> int:
    """The partition of a key: stable per key; keyless records spread round robin."""
    if key is None:
        return counter % partitions
    return zlib.crc32(key) % partitions


# --------------------------------------------------------------------------- in-process backend


@dataclass
class _Partition:
    base: int = 0  # offset of records[0]; records below it were trimmed
    records: list[Record] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.base + len(self.records)


class MemoryBus(Bus):
    """Partitioned logs and consumer groups in the process: the embedded system's bus."""

    def __init__(self, *, fail_publish: bool = False) -> None:
        self._topics: dict[str, list[_Partition]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._members: dict[str, _MemorySubscription] = {}
        self._changed = asyncio.Event()
        self._counter = 0
        self.available = not fail_publish
        """Tests switch this off to simulate an outage: publish then raises BusUnavailable."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for member in list(self._members.values()):
            await member.stop()

    async def ensure_topics(self, topics: Sequence[str], partitions: int, replication: int) -> None:
        for topic in topics:
            self._topics.setdefault(topic, [_Partition() for _ in range(partitions)])

    def topics(self) -> list[str]:
        """The names of the existing topics."""
        return list(self._topics)

    async def publish(self, records: Sequence[Record]) -> None:
        if not self.available:
            raise BusUnavailable("in-process bus switched off")
        for record in records:
            parts = self._topics.get(record.topic)
            if parts is None:
                raise BusUnavailable(f"unknown topic {record.topic}")
            self._counter += 1
            number = partition_for(record.key, len(parts), self._counter)
            part = parts[number]
            part.records.append(replace(record, partition=number, offset=part.end))
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def subscribe(
        self, group: str, topics: Sequence[str], handler: RecordHandler
    ) -> Subscription:
        if group in self._members:
            raise RuntimeError(f"group {group} already has a member on the in-process bus")
        for topic in topics:
            if topic not in self._topics:
                raise BusUnavailable(f"unknown topic {topic}")
        member = _MemorySubscription(self, group, list(topics), handler)
        self._members[group] = member
        member.task = asyncio.create_task(member.run(), name=f"memory-consumer-{group}")
        return member

    async def healthy(self) -> bool:
        return self.available

    def read(self, topic: str) -> list[Record]:
        """Every record still held on ``topic`` (tests and the dashboard read through this)."""
        return [r for part in self._topics.get(topic, []) for r in part.records]

    def end_offsets(self, topic: str) -> list[int]:
        """The end offset of each partition of ``topic``."""
        return [part.end for part in self._topics.get(topic, [])]

    def committed(self, group: str, topic: str, partition: int) -> int:
        """The committed offset of ``group`` on one partition (0 when nothing was committed)."""
        return self._committed.get((group, topic, partition), 0)

    def _commit(self, group: str, topic: str, partition: int, offset: int) -> None:
        self._committed[(group, topic, partition)] = offset
        self._trim(topic, partition)

    def _trim(self, topic: str, partition: int) -> None:
        """Drop records that every group reading the topic has committed past."""
        groups = {g for (g, t, _p) in self._committed if t == topic}
        if not groups:
            return
        low = min(self._committed.get((g, topic, partition), 0) for g in groups)
        part = self._topics[topic][partition]
        if low - part.base > 10_000:
            del part.records[: low - part.base]
            part.base = low


class _MemorySubscription(Subscription):
    def __init__(
        self, bus: MemoryBus, group: str, topics: list[str], handler: RecordHandler
    ) -> None:
        self.bus, self.group, self.topics, self.handler = bus, group, topics, handler
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        bus = self.bus
        while True:
            changed = bus._changed
            progressed = False
            for topic in self.topics:
                for number, part in enumerate(bus._topics[topic]):
                    position = bus.committed(self.group, topic, number)
                    while position < part.end:
                        record = part.records[position - part.base]
                        await self.handler(record)
                        position += 1
                        bus._commit(self.group, topic, number, position)
                        progressed = True
            if not progressed:
                await changed.wait()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.bus._members.get(self.group) is self:
            del self.bus._members[self.group]


def create_bus(
    kind: str, bootstrap_servers: str, client_id: str, security: KafkaSecurity | None = None,
    batch_wait_ms: int = 0, fetch_min_bytes: int = 1, fetch_max_wait_ms: int = 500,
) -> Bus:
    """The bus named by settings: ``memory`` or ``kafka`` (as the principal ``security`` names)."""
    if kind == "kafka":
        from shared.kafka_bus import KafkaBus

        return KafkaBus(bootstrap_servers, client_id=client_id, security=security, batch_wait_ms=batch_wait_ms,
                        fetch_min_bytes=fetch_min_bytes, fetch_max_wait_ms=fetch_max_wait_ms)
    if kind == "memory":
        return MemoryBus()
    raise ValueError(f"unknown bus {kind!r}")
