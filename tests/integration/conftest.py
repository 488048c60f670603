"""Fixtures that run Tongban services as separate processes on Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.authorization.service import bootstrap_clients, register_regional_office
from shared.envelope import Record
from shared.service import standalone
from shared.settings import SERVICE_NAMES, Settings
from tests.support.infra import KafkaBroker, PostgresServer
from tests.support.kafka_io import read_topic
from tests.support.keys import write_test_keys
from tests.support.processes import ServiceProcess, free_port
from tongban.registry import definition

REGIONAL = "regional"
"""Key in ``System.credentials`` of the joint office's client (regional catalogue, calendar and operator roles)."""


@dataclass
class System:
    """Services running as processes, sharing one Kafka and one topic prefix."""

    kafka: KafkaBroker
    topic_prefix: str
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    _tokens: dict[tuple[str, str | None], str] = field(default_factory=dict)

    async def token(self, locality: str, scope: str | None = None) -> str:
        """An access token of the locality's bootstrap client, or of the joint office's (``REGIONAL``)."""
        if (locality, scope) not in self._tokens:
            cred = self.credentials[locality]
            form = {"grant_type": "client_credentials", "client_id": cred["client_id"],
                    "client_secret": cred["client_secret"]}
            if scope:
                form["scope"] = scope
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.post(self.url("authorization") + "/oauth/token", data=form)
            response.raise_for_status()
            self._tokens[(locality, scope)] = response.json()["access_token"]
        return self._tokens[(locality, scope)]

    async def headers(self, locality: str, scope: str | None = None) -> dict[str, str]:
        """Authorization headers for a locality's client."""
        return {"Authorization": f"Bearer {await self.token(locality, scope)}"}

    def url(self, service: str) -> str:
        """Base URL of a running service."""
        return self.services[service].url

    def topic(self, locality: str) -> str:
        """The topic of a locality under this system's prefix."""
        return f"{self.topic_prefix}.locality.{locality}"

    async def read_locality_topic(
        self, locality: str, until: Callable[[list[Record]], bool], timeout: float = 30
    ) -> list[Record]:
        """Read a locality's topic as its own system would: on a secured broker, as its principal
        (in a consumer group under its prefix); on a plain one, without credentials."""
        principal = self.kafka.locality_principal(self.topic_prefix, locality)
        if principal is None:
            return await read_topic(self.kafka.bootstrap, self.topic(locality), until, timeout)
        return await read_topic(self.kafka.bootstrap, self.topic(locality), until, timeout,
                                group_prefix=f"{self.topic(locality)}.test-",
                                **self.kafka.client_options(principal))

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
