"""Kafka as an interface, secured (issue 14): SASL/SCRAM-SHA-512 over TLS with StandardAuthorizer ACLs.

On the session's secured broker (``kafka.sh start`` with ``KAFKA_SECURITY=sasl_ssl`` and
``kafka.sh secure-setup``): a locality's principal reads its own topic and nothing else, and
writes nowhere; the services and the dashboard, each as its own principal, run the whole posted case
flow, and Suzhou's window system, a loopback receiver verifying with ``standardwebhooks``, receives
every event of the case in order by webhook.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from shared.envelope import Record
from shared.settings import SERVICE_NAMES
from tests.integration.conftest import SystemFactory
from tests.integration.test_webhooks import WEBHOOK_ENV
from tests.support.flows import posted_case_flow
from tests.support.webhook_receiver import Receiver
from tongban.testbed.infra import SecuredKafkaBroker
from tongban.testbed.kafka_io import produce_raw, read_topic, wait_for
from tongban.testbed.processes import free_port

SUZHOU, YANGPU, BOZHOU = "320505", "310110", "341600"


async def _consume_once(broker: SecuredKafkaBroker, principal: str, topic: str, group: str) -> list[bytes]:
    """One fetch of ``topic`` in ``group`` as ``principal``: the values read, or the broker's refusal."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                **broker.client_options(principal))
    await consumer.start()
    try:
        batches = await asyncio.wait_for(consumer.getmany(timeout_ms=3000), 30)
        return [m.value or b"" for messages in batches.values() for m in messages]
    finally:
        await consumer.stop()


async def _produce(broker: SecuredKafkaBroker, principal: str, topic: str, options: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", request_timeout_ms=10_000,
                                **options)
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"forged by " + principal.encode()), 30)
    finally:
        await producer.stop()


async def test_a_locality_reads_only_its_own_topic_and_writes_nothing(secure_kafka: SecuredKafkaBroker) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    secure_kafka.prepare(prefix)
    topic = {code: f"{prefix}.locality.{code}" for code in (SUZHOU, YANGPU, BOZHOU)}
    admin = secure_kafka.client_options()
    for code in (SUZHOU, YANGPU):
        await produce_raw(secure_kafka.bootstrap, topic[code], f"event of {code}".encode(), **admin)
    suzhou = f"{prefix}-locality-{SUZHOU}"
    own_group = f"{topic[SUZHOU]}.window-sync"

    # Reads its own topic, in a consumer group under its own prefix.
    assert await _consume_once(secure_kafka, suzhou, topic[SUZHOU], own_group) == [f"event of {SUZHOU}".encode()]
    # Refused Yangpu's topic (and Bozhou's), even in a group of its own prefix.
    for other in (YANGPU, BOZHOU):
        with pytest.raises(TopicAuthorizationFailedError):
            await _consume_once(secure_kafka, suzhou, topic[other], own_group + "-2")
    # Refused its own topic's dead letters, and groups outside its prefix (a service's, another locality's).
    with pytest.raises(TopicAuthorizationFailedError):
        await _consume_once(secure_kafka, suzhou, topic[SUZHOU] + ".dlt", own_group + "-3")
    for group in ("tongban-routing", f"{topic[YANGPU]}.window-sync", "window-sync"):
        with pytest.raises(GroupAuthorizationFailedError):
            await _consume_once(secure_kafka, suzhou, topic[SUZHOU], group)

    # Writes nothing: not to its own topic, not to another locality's, not to a dead-letter topic.
    options = secure_kafka.client_options(suzhou)
    for target in (topic[SUZHOU], topic[YANGPU], topic[SUZHOU] + ".dlt"):
        with pytest.raises(TopicAuthorizationFailedError):
            await _produce(secure_kafka, suzhou, target, options)
    # Nor may it make topics.
    client = AIOKafkaAdminClient(bootstrap_servers=secure_kafka.bootstrap, **options)
    await client.start()
    try:
        response = await client.create_topics([NewTopic(f"{prefix}.locality.{SUZHOU}.mine", 1, 1)])
        assert all(error_code != 0 for _name, error_code, *_ in response.topic_errors), response
    finally:
        await client.close()

    # What the admin wrote is all the topics hold: no forged record landed anywhere.
    for code in (SUZHOU, YANGPU):
        records = await read_topic(secure_kafka.bootstrap, topic[code], until=lambda rs: len(rs) >= 1, **admin)
        assert [r.value for r in records] == [f"event of {code}".encode()]
    yangpu_read = await read_topic(
        secure_kafka.bootstrap, topic[YANGPU], until=lambda rs: len(rs) >= 1,
        group_prefix=f"{topic[YANGPU]}.test-", **secure_kafka.client_options(f"{prefix}-locality-{YANGPU}"))
    assert [r.value for r in yangpu_read] == [f"event of {YANGPU}".encode()]


async def test_no_entry_without_the_right_credentials(secure_kafka: SecuredKafkaBroker) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    secure_kafka.prepare(prefix)
    topic = f"{prefix}.locality.{SUZHOU}"
    wrong = {**secure_kafka.client_options(f"{prefix}-locality-{SUZHOU}"), "sasl_plain_password": "not-the-password"}
    attempts: list[dict[str, Any]] = [
        {},  # plain text against the TLS listener
        wrong,  # a wrong password
        {**wrong, "sasl_plain_username": "nobody"},  # an unknown principal
    ]
    for options in attempts:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=secure_kafka.bootstrap, request_timeout_ms=5000,
                                    group_id=f"{topic}.x", **options)
        with pytest.raises((KafkaError, KafkaConnectionError)):
            await asyncio.wait_for(consumer.start(), 20)
        await consumer.stop()


async def test_the_services_run_the_posted_case_flow_with_acls_on_and_suzhou_hears_every_event_by_webhook(
    start_system: SystemFactory, secure_kafka: SecuredKafkaBroker
) -> None:
    # Every service (webhooks too) and the dashboard, each as its own principal with its own ACLs.
    system = await start_system(*SERVICE_NAMES, "dashboard", broker=secure_kafka, env=WEBHOOK_ENV)
    for name, process in system.services.items():
        assert process.env["TONGBAN_KAFKA_USERNAME"] == f"{system.topic_prefix}-{name}"
    # Suzhou's window system: a loopback receiver that verifies each delivery with `standardwebhooks`.
    receiver = Receiver(free_port())
    await receiver.start()
    try:
        async with httpx.AsyncClient(timeout=15, headers=await system.headers(SUZHOU)) as http:
            created = await http.post(system.url("webhooks") + "/v1/subscriptions", json={
                "url": receiver.url, "event_types": ["*"], "description": "Suzhou window system"})
            assert created.status_code == 201, created.text
            receiver.secrets.append(created.json()["secret"])
        case_id = await posted_case_flow(system)

        # Every event of the case on Suzhou's topic (read as Suzhou's principal), in the topic's order.
        def closed(records: list[Record]) -> bool:
            return any(r.key == case_id.encode() and r.header("ce_type") == "cn.tongban.routing.case.status_changed.v1"
                       and json.loads(r.value)["to_status"] == "closed" for r in records)

        on_topic = [str(r.header("ce_id")) for r in await system.read_locality_topic(SUZHOU, until=closed)
                    if r.key == case_id.encode()]
        assert len(on_topic) >= 15, on_topic
        await wait_for(lambda: set(on_topic) <= set(Receiver.first_seen(receiver.events_of(case_id))), timeout=60)
        received = receiver.events_of(case_id)
        assert Receiver.first_seen(received) == on_topic, "every event of the case, in order, none extra"
        assert receiver.refused == [], "every delivery verified"
        by_webhook_id: dict[str, set[str]] = {}
        for r in received:
            by_webhook_id.setdefault(r.webhook_id, set()).add(r.event["id"])
        assert all(len(ids) == 1 for ids in by_webhook_id.values()), "one webhook-id per event"

        # The dashboard heard of it too: Suzhou's webhook health, from the webhooks service's reports.
        async with httpx.AsyncClient(base_url=system.url("dashboard"), timeout=15) as dashboard:
            cred = system.credentials[SUZHOU]
            login = {"client_id": cred["client_id"], "client_secret": cred["client_secret"]}
            assert (await dashboard.post("/api/session", json=login)).status_code == 200

            async def reported() -> bool:
                [row] = (await dashboard.get("/api/panels/webhooks")).json()["localities"]
                return bool(row["locality"] == SUZHOU and row["active"] == 1 and row["delivered"] >= len(on_topic))

            await wait_for(reported, timeout=90, interval=1)
    finally:
        await receiver.stop()
