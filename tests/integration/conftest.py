"""Fixtures that run Tongban services as separate processes on Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.authorization.service import bootstrap_clients, register_regional_office
from shared.service import standalone
from shared.settings import SERVICE_NAMES, Settings
from tongban.registry import definition
from tongban.testbed.infra import KafkaBroker, PostgresServer
from tongban.testbed.keys import write_test_keys
from tongban.testbed.processes import ServiceProcess, free_port
from tongban.testbed.system import REGIONAL, System

SystemFactory = Callable[..., Coroutine[Any, Any, System]]


@pytest.fixture
async def start_system(
    kafka: KafkaBroker, postgres: PostgresServer, tmp_path: Path
) -> AsyncIterator[SystemFactory]:
    """Start chosen services (default: all four) as processes, each on its own fresh database."""
    systems: list[System] = []

    async def start(*names: str, broker: KafkaBroker | None = None, env: dict[str, str] | None = None) -> System:
        system = System(kafka=broker or kafka, topic_prefix=f"t{uuid.uuid4().hex[:8]}")
        chosen = list(names or SERVICE_NAMES)
        if "authorization" not in chosen:
            chosen.append("authorization")  # every service verifies tokens against its JWKS
        system.kafka.prepare(system.topic_prefix)  # a secured broker: topics, principals, ACLs
        ports = {name: free_port() for name in chosen}
        auth_port = ports["authorization"]
        for name in chosen:
            url = await postgres.create_database(name[:4])
            system.database_urls[name] = url
            service_env = {
                "TONGBAN_ENVIRONMENT": "development",  # plain HTTP: session cookies not Secure (env may say otherwise)
                **(env or {}),
                "TONGBAN_BUS": "kafka",
                "TONGBAN_KAFKA_BOOTSTRAP_SERVERS": system.kafka.bootstrap,
                "TONGBAN_DATABASE_URL": url,
                "TONGBAN_TOPIC_PREFIX": system.topic_prefix,
                "TONGBAN_DATA_DIR": str(tmp_path / "data"),
                "TONGBAN_KEYS_DIR": str(write_test_keys(tmp_path / "keys")[name]),
                "TONGBAN_OUTBOX_MAX_BACKOFF_SECONDS": "2",
                "TONGBAN_AUTHORIZATION_URL": f"http://127.0.0.1:{auth_port}",
                "TONGBAN_CATALOGUE_URL": f"http://127.0.0.1:{ports.get('catalogue', free_port())}",
                **system.kafka.service_env(system.topic_prefix, name),
            }
            port = ports[name]
            system.services[name] = ServiceProcess(name, port, service_env, tmp_path / f"{name}.log")
        auth_env = system.services["authorization"].env
        settings = Settings(**{k[len("TONGBAN_"):].lower(): v for k, v in auth_env.items()
                               if k != "TONGBAN_DATABASE_URL"})
        async with standalone(definition("authorization"), settings, auth_env["TONGBAN_DATABASE_URL"]) as ctx, \
                ctx.uow() as uow:
            system.credentials = {c["locality"]: c for c in await bootstrap_clients(uow)}
            system.credentials[REGIONAL] = await register_regional_office(uow)
            await uow.commit()
        systems.append(system)
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in system.services.values()))
        return system

    yield start
    for system in systems:
        system.stop()


@pytest.fixture
def private_kafka(work_dir: Path) -> Iterator[KafkaBroker]:
    """A broker of this test's own, which the test may stop and start."""
    broker = KafkaBroker(port=free_port(span=2), state_dir=work_dir / f"kafka-{uuid.uuid4().hex[:6]}")
    broker.start()
    yield broker
    broker.stop()
