"""The bus contract, on both backends: in-process (with SQLite) and Apache Kafka (with PostgreSQL).

Per-key order across 1,000 events; every event handled once in effect; a consumer killed in the
middle of a batch resumes without loss.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.bus import Bus, MemoryBus
from shared.db import create_engine
from shared.envelope import Envelope
from shared.kafka_bus import KafkaBus
from shared.localities import Locality, LocalityRegistry
from tests.support.harness import Counted, CountingService
from tongban.testbed.kafka_io import wait_for


@pytest.fixture(params=["memory", "kafka"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Bus, CountingService, str]]:
    """A bus, a test service on a database, and a fresh locality topic."""
    code = f"{uuid.uuid4().int % 800000 + 100000}"
    registry = LocalityRegistry(
        [Locality(code=code, name_zh="测试", name_en="Test", province_zh="测试", province_en="Test")],
        topic_prefix=f"contract{uuid.uuid4().hex[:6]}",
    )
    bus: Bus
    if request.param == "memory":
        bus = MemoryBus()
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}")
    else:
        kafka = request.getfixturevalue("kafka")
        bus = KafkaBus(kafka.bootstrap, client_id="contract-test")
        engine = create_engine(await request.getfixturevalue("postgres").create_database("contract"))
    await bus.start()
    await bus.ensure_topics(registry.all_topics, partitions=3, replication=1)
    service = await CountingService.create(engine, bus, registry)
    yield bus, service, registry.topic(code)
    await bus.stop()
    await engine.dispose()


def _envelopes(count: int, keys: int) -> list[Envelope]:
    return [Envelope.wrap(Counted(key=f"case-{i % keys}", seq=i // keys), "/tongban/test") for i in range(count)]


async def test_per_key_order_is_kept_across_1000_events(backend: tuple[Bus, CountingService, str]) -> None:
    bus, service, topic = backend
    envelopes = _envelopes(1000, keys=20)
    for start in range(0, 1000, 100):
        await bus.publish([e.to_record(topic) for e in envelopes[start:start + 100]])
    sub = await bus.subscribe("contract-order", [topic], service.dispatcher("contract-order"))
    try:
        await wait_for(lambda: _count_is(service, 1000), timeout=90)
    finally:
        await sub.stop()
    seen: dict[str, list[int]] = defaultdict(list)
    for key, seq in await service.effect_rows():
        seen[key].append(seq)
    assert len(seen) == 20
    for key, seqs in seen.items():
        assert seqs == list(range(50)), f"{key} handled out of order: {seqs[:10]}..."


async def _count_is(service: CountingService, expected: int) -> bool:
    count = await service.effect_count()
    assert count <= expected, f"{count} effects for {expected} events: an event had a second effect"
    return count == expected


async def test_redelivered_events_have_no_second_effect(backend: tuple[Bus, CountingService, str]) -> None:
    bus, service, topic = backend
    envelopes = _envelopes(200, keys=7)
    await bus.publish([e.to_record(topic) for e in envelopes])
    await bus.publish([e.to_record(topic) for e in envelopes[:50]])  # the same events again
    sub = await bus.subscribe("contract-once", [topic], service.dispatcher("contract-once"))
    try:
        await wait_for(lambda: service.metrics.events_duplicate._value.get() >= 50, timeout=60)
        await asyncio.sleep(0.5)
    finally:
        await sub.stop()
    assert await service.effect_count() == 200
    assert service.metrics.events_duplicate._value.get() == 50


async def test_consumer_killed_mid_batch_resumes_without_loss(backend: tuple[Bus, CountingService, str]) -> None:
    bus, service, topic = backend
    envelopes = _envelopes(300, keys=5)
    await bus.publish([e.to_record(topic) for e in envelopes])
    handled = 0
    stuck = asyncio.Event()

    async def hang_after_120(_event: Counted) -> None:
        nonlocal handled
        handled += 1
        if handled == 120:
            stuck.set()
            await asyncio.Event().wait()  # never returns: the consumer dies here, mid-batch

    first = await bus.subscribe("contract-kill", [topic], service.dispatcher("contract-kill", hang_after_120))
    await asyncio.wait_for(stuck.wait(), 60)
    await first.stop()  # killed: the stuck event's transaction never commits, its offset is not committed
    # One transaction per event on the in-process bus, one per fetch on Kafka: what committed before the
    # stuck event stays, nothing of the stuck event's transaction does.
    assert await service.effect_count() <= 119
    second = await bus.subscribe("contract-kill", [topic], service.dispatcher("contract-kill"))
    try:
        await wait_for(lambda: _count_is(service, 300), timeout=90)
        await asyncio.sleep(0.5)
    finally:
        await second.stop()
    rows = await service.effect_rows()
    assert len(rows) == 300
    assert len(set(rows)) == 300, "an event had a second effect"
