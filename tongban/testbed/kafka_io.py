"""Reading and writing locality topics with a raw aiokafka client, as a locality system would."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.envelope import Record
from tongban.testbed.patience import deadline, patience


async def read_topic(
    bootstrap: str,
    topic: str,
    until: Callable[[list[Record]], bool],
    timeout: float = 120,
    group_prefix: str = "test-reader-",
    **options: Any,
) -> list[Record]:
    """Read ``topic`` from the beginning until ``until(records)`` holds; fail after ``timeout``.

    ``options`` are extra aiokafka arguments, e.g. a locality principal's SASL settings.
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"{group_prefix}{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest", enable_auto_commit=False, **options,
    )
    await consumer.start()
    records: list[Record] = []
    give_up_at = deadline(timeout)
    try:
        while not until(records):
            if time.monotonic() > give_up_at:
                raise AssertionError(f"{topic}: condition not met after {timeout}s; read {len(records)} records")
            batches = await consumer.getmany(timeout_ms=250)
            for messages in batches.values():
                records.extend(
                    Record(m.topic, m.key, m.value or b"", tuple(m.headers or ()), m.partition, m.offset)
                    for m in messages
                )
    finally:
        await consumer.stop()
    return records


async def produce_raw(bootstrap: str, topic: str, value: bytes, key: bytes | None = None,
                      headers: list[tuple[str, bytes]] | None = None, **options: Any) -> None:
    """Write one record as it is, whatever it holds (``options``: extra aiokafka arguments)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **options)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers or [])
    finally:
        await producer.stop()


async def wait_for(predicate: Callable[[], object], timeout: float = 120, interval: float = 0.1) -> None:
    """Poll an async-or-sync predicate until truthy."""
    give_up_at = deadline(timeout)
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > give_up_at:
            raise AssertionError(f"condition not met after {timeout}s (x{patience():g} patience)")
        await asyncio.sleep(interval)
