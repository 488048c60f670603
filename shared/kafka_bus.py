"""The Apache Kafka backend of the bus, through aiokafka.

Idempotent producer, acks=all, one consumer group per service, offsets committed only after the
handler returned (one commit per fetch); a handler with a ``handle_batch`` method (the event
dispatcher) gets each fetch whole. Every client connects as the process's principal
(:mod:`shared.kafka_security`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from shared.bus import Bus, BusUnavailable, RecordHandler, Subscription
from shared.envelope import Record
from shared.kafka_security import KafkaSecurity

log = logging.getLogger("tongban.bus")

_ENOUGH = 200
"""Records of a fetch that make a batch worth handling at once, without waiting for more."""


class KafkaBus(Bus):
    """Apache Kafka through aiokafka."""

    def __init__(
        self,
        bootstrap_servers: str,
        client_id: str = "tongban",
        request_timeout_ms: int = 10_000,
        security: KafkaSecurity | None = None,
        batch_wait_ms: int = 0,
        fetch_min_bytes: int = 1,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.batch_wait_ms = batch_wait_ms
        """How long a consumer that got records waits for more to join them (0: handle them at once)."""
        self.fetch_min_bytes, self.fetch_max_wait_ms = fetch_min_bytes, fetch_max_wait_ms
        """What the broker gathers for a fetch, and for how long at most (see the settings)."""
        self.client_id = client_id
        self.security = security or KafkaSecurity()
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
                    **self.security.client_options(),
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
            bootstrap_servers=self.bootstrap_servers, client_id=self.client_id + "-admin",
            **self.security.client_options(),
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


def _record(message) -> Record:  # type: ignore[no-untyped-def]
    return Record(
        topic=message.topic,
        key=message.key,
        value=message.value if message.value is not None else b"",
        headers=tuple(message.headers or ()),
        partition=message.partition,
        offset=message.offset,
    )


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
            # The broker answers a fetch once it has fetch_min_bytes of records or fetch_max_wait_ms has
            # passed: an idle consumer asks that often.
            fetch_min_bytes=self.bus.fetch_min_bytes,
            fetch_max_wait_ms=self.bus.fetch_max_wait_ms,
            **self.bus.security.client_options(),
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
                if batches and self.bus.batch_wait_ms and sum(map(len, batches.values())) < _ENOUGH:
                    # Records are flowing: let the next ones join this batch (one transaction for all).
                    await asyncio.sleep(self.bus.batch_wait_ms / 1000)
                    for tp, more in (await consumer.getmany(timeout_ms=0)).items():
                        batches.setdefault(tp, []).extend(more)  # the next records of the same partition
            except Exception as exc:
                log.warning("fetch failed", extra={"group": self.group, "error": repr(exc)})
                await asyncio.sleep(1)
                continue
            handled: dict[TopicPartition, int] = {}
            together = getattr(self.handler, "handle_batch", None)
            if together is not None and batches:
                # The whole fetch at once (the dispatcher's one transaction); on failure every
                # partition is read again from the fetch's first record (the inbox absorbs repeats).
                try:
                    await together([_record(m) for messages in batches.values() for m in messages])
                except Exception as exc:
                    log.error("handler failed", extra={"group": self.group, "error": repr(exc)})
                    for tp, messages in batches.items():
                        consumer.seek(tp, messages[0].offset)
                    await asyncio.sleep(1)
                    continue
                handled = {TopicPartition(tp.topic, tp.partition): messages[-1].offset + 1
                           for tp, messages in batches.items() if messages}
                batches = {}
            for tp, messages in batches.items():
                done = None
                try:
                    for message in messages:
                        await self.handler(_record(message))
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
