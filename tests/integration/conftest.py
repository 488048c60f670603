"""Fixtures that run Tongban services as separate processes on Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shared.settings import SERVICE_NAMES
from tests.support.infra import KafkaBroker, PostgresServer
from tests.support.processes import ServiceProcess, free_port


@dataclass
class System:
    """Services running as processes, sharing one Kafka and one topic prefix."""

    kafka: KafkaBroker
    topic_prefix: str
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        """Base URL of a running service."""
        return self.services[service].url

    def topic(self, locality: str) -> str:
        """The topic of a locality under this system's prefix."""
        return f"{self.topic_prefix}.locality.{locality}"

    def stop(self) -> None:
        """Stop every service."""
        for proc in self.services.values():
            proc.stop()


SystemFactory = Callable[..., Coroutine[Any, Any, System]]


@pytest.fixture
async def start_system(
    kafka: KafkaBroker, postgres: PostgresServer, tmp_path: Path
) -> AsyncIterator[SystemFactory]:
    """Start chosen services (default: all four) as processes, each on its own fresh database."""
    systems: list[System] = []

    async def start(*names: str, broker: KafkaBroker | None = None, env: dict[str, str] | None = None) -> System:
        system = System(kafka=broker or kafka, topic_prefix=f"t{uuid.uuid4().hex[:8]}")
        for name in names or SERVICE_NAMES:
            url = await postgres.create_database(name[:4])
            system.database_urls[name] = url
            service_env = {
                **(env or {}),
                "TONGBAN_BUS": "kafka",
                "TONGBAN_KAFKA_BOOTSTRAP_SERVERS": system.kafka.bootstrap,
                "TONGBAN_DATABASE_URL": url,
                "TONGBAN_TOPIC_PREFIX": system.topic_prefix,
                "TONGBAN_DATA_DIR": str(tmp_path / "data"),
                "TONGBAN_SECRET_KEY": "test-secret-key",
                "TONGBAN_OUTBOX_MAX_BACKOFF_SECONDS": "2",
            }
            system.services[name] = ServiceProcess(name, free_port(), service_env, tmp_path / f"{name}.log")
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
