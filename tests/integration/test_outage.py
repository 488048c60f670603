"""The outbox through a broker outage: the API keeps accepting, and nothing is lost or doubled."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from shared.db import create_engine
from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.infra import KafkaBroker
from tongban.testbed.kafka_io import read_topic, wait_for

YANGPU = "310110"


def _item(n: int) -> dict[str, object]:
    return {
        "code": f"YRD-AQ-{n:04d}", "name_zh": f"档案查询{n}", "name_en": f"Archive query {n}",
        "area": "archive_query", "modes": ["fully_online"], "ownership_rule": "property_location",
        "committed_days": 3,
    }


async def _scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def test_outbox_survives_broker_outage(start_system: SystemFactory, private_kafka: KafkaBroker) -> None:
    system = await start_system("catalogue", "routing", broker=private_kafka)
    catalogue = system.url("catalogue")
    async with httpx.AsyncClient(timeout=10, headers=await system.headers(REGIONAL)) as http:
        for n in range(1, 101):
            assert (await http.post(f"{catalogue}/v1/items", json=_item(n))).status_code == 201

        private_kafka.stop()
        statuses = await asyncio.gather(
            *(http.post(f"{catalogue}/v1/items/YRD-AQ-{n:04d}/publish") for n in range(1, 101))
        )
        assert [r.status_code for r in statuses] == [200] * 100, "the API must accept while Kafka is down"
        ready = await http.get(f"{catalogue}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["bus"] == "unavailable"
        pending = await _scalar(system.database_urls["catalogue"], "SELECT count(*) FROM outbox")
        assert pending == 400, "100 events x 4 locality topics wait in the outbox"
        await asyncio.sleep(3)
        private_kafka.start()

    await wait_for(lambda: _outbox_empty(system.database_urls["catalogue"]), timeout=60)
    records = await read_topic(
        private_kafka.bootstrap, system.topic(YANGPU),
        until=lambda rs: len({r.header("ce_id") for r in rs}) >= 100, timeout=60,
    )
    published = [r for r in records if r.header("ce_type") == "cn.tongban.catalogue.item.published.v1"]
    assert len({r.header("ce_id") for r in published}) == 100, "every accepted change's event arrived"

    routing_db = system.database_urls["routing"]

    async def routing_has_all() -> bool:
        return await _scalar(routing_db, "SELECT count(*) FROM known_items") == 100

    await wait_for(routing_has_all, timeout=60)
    await asyncio.sleep(1)
    # Once in effect: one inbox row per event, each item at its first revision, nothing more.
    assert await _scalar(routing_db, "SELECT count(*) FROM inbox") == 100
    assert await _scalar(routing_db, "SELECT count(*) FROM known_items WHERE revision = 1") == 100
    assert await _scalar(routing_db, "SELECT count(DISTINCT event_id) FROM inbox") == 100


async def _outbox_empty(url: str) -> bool:
    return await _scalar(url, "SELECT count(*) FROM outbox") == 0
