"""The event bus: one interface, two backends.

:class:`KafkaBus` talks to Apache Kafka through aiokafka (idempotent producer, acks=all, one
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

from shared.envelope import Record

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


# --------------------------------------------------------------------------- Apache Kafka backend


class KafkaBus(Bus):
    """Apache Kafka through aiokafka."""

    def __init__(
        self, bootstrap_servers: str, client_id: str = "tongban", request_timeout_ms: int = 10_000
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.request_timeout_ms = request_timeout_ms
        self._producer: object | None = None
        self._producer_lock = asyncio.Lock()
        self._subscriptions: list[_KafkaSubscription] = []

    async def start(self) -> None:
        # The producer connects lazily: a service starts (and its API accepts) while Kafka is down.
        return None

    async def _get_producer(self):  # type: ignore[no-untyped-def]
        from aiokafka import AIOKafkaProducer

        async with self._producer_lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=self.client_id,
                    enable_idempotence=True,
                    acks="all",
                    linger_ms=1,
                    request_timeout_ms=self.request_timeout_ms,
                )
                try:
                    await producer.start()
                except Exception as exc:
                    with contextlib.suppress(Exception):
                        await producer.stop()
                    raise BusUnavailable(f"cannot connect to Kafka: {exc!r}") from exc
                self._producer = producer
            return self._producer

    async def _drop_producer(self) -> None:
        async with self._producer_lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5)  # type: ignore[attr-defined]

    async def stop(self) -> None:
        for sub in list(self._subscriptions):
            await sub.stop()
        await self._drop_producer()

    async def ensure_topics(self, topics: Sequence[str], partitions: int, replication: int) -> None:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, client_id=self.client_id + "-admin"
        )
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [t for t in topics if t not in existing]
            if missing:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=replication)
                     for t in missing]
                )
                log.info("created topics", extra={"topics": missing})
        finally:
            await admin.close()

    async def publish(self, records: Sequence[Record]) -> None:
        if not records:
            return
        producer = await self._get_producer()
        try:
            futures = [
                await producer.send(  # type: ignore[attr-defined]
                    r.topic, value=r.value, key=r.key, headers=list(r.headers)
                )
                for r in records
            ]
            await asyncio.gather(*futures)
        except Exception as exc:
            await self._drop_producer()
            raise BusUnavailable(f"Kafka did not acknowledge: {exc!r}") from exc

    async def subscribe(
        self, group: str, topics: Sequence[str], handler: RecordHandler
    ) -> Subscription:
        sub = _KafkaSubscription(self, group, list(topics), handler)
        await sub.start()
        self._subscriptions.append(sub)
        return sub

    async def healthy(self) -> bool:
        try:
            producer = await self._get_producer()
            await asyncio.wait_for(
                producer.client.fetch_all_metadata(), 3  # type: ignore[attr-defined]
            )
            return True
        except Exception:
            return False


class _KafkaSubscription(Subscription):
    def __init__(self, bus: KafkaBus, group: str, topics: list[str], handler: RecordHandler) -> None:
        self.bus, self.group, self.topics, self.handler = bus, group, topics, handler
        self.task: asyncio.Task[None] | None = None
        self.consumer: object | None = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bus.bootstrap_servers,
            client_id=f"{self.bus.client_id}-{self.group}",
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
            fetch_max_wait_ms=100,
        )
        self.consumer = consumer
        self.task = asyncio.create_task(self._run(consumer), name=f"kafka-consumer-{self.group}")

    async def _run(self, consumer) -> None:  # type: ignore[no-untyped-def]
        from aiokafka.structs import TopicPartition

        delay = 0.5
        while True:  # start, retrying while the broker is down
            try:
                await consumer.start()
                break
            except Exception as exc:
                log.warning("consumer cannot start yet", extra={"group": self.group, "error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=500)
            except Exception as exc:
                log.warning("fetch failed", extra={"group": self.group, "error": repr(exc)})
                await asyncio.sleep(1)
                continue
            handled: dict[TopicPartition, int] = {}
            for tp, messages in batches.items():
                done = None
                try:
                    for message in messages:
                        await self.handler(
                            Record(
                                topic=message.topic,
                                key=message.key,
                                value=message.value if message.value is not None else b"",
                                headers=tuple(message.headers or ()),
                                partition=message.partition,
                                offset=message.offset,
                            )
                        )
                        done = message.offset
                except Exception as exc:
                    # Not handled: read again from the first record that was not.
                    log.error("handler failed", extra={"group": self.group, "error": repr(exc)})
                    consumer.seek(tp, messages[0].offset if done is None else done + 1)
                    await asyncio.sleep(1)
                if done is not None:
                    handled[TopicPartition(tp.topic, tp.partition)] = done + 1
            if not handled:
                continue
            # One commit for every partition of the fetch (a request to the group coordinator each
            # time, so not one per partition), still only after the records were handled.
            try:
                await consumer.commit(handled)
            except Exception as exc:  # redelivery is absorbed by the handlers' inbox
                log.warning("offset commit failed", extra={"group": self.group, "error": repr(exc)})

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.consumer.stop(), 10)  # type: ignore[attr-defined]
        if self in self.bus._subscriptions:
            self.bus._subscriptions.remove(self)


def create_bus(kind: str, bootstrap_servers: str, client_id: str) -> Bus:
    """The bus named by settings: ``memory`` or ``kafka``."""
    if kind == "kafka":
        return KafkaBus(bootstrap_servers, client_id=client_id)
    if kind == "memory":
        return MemoryBus()
    raise ValueError(f"unknown bus {kind!r}")
