"""A whole Tongban system as processes: what a test or a benchmark drives (:class:`System`), and its launch.

The same steps as the ``start_system`` fixture of ``tests/integration/conftest.py`` (a fresh
database per service, the bootstrap clients of the four localities, each service as its own
process on one topic prefix), for the soak command and for fixtures of a wider scope.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.authorization.service import bootstrap_clients, register_regional_office
from shared.envelope import Record
from shared.service import standalone
from shared.settings import SERVICE_NAMES, Settings
from tongban.registry import definition
from tongban.testbed.infra import KafkaBroker, PostgresServer
from tongban.testbed.kafka_io import read_topic
from tongban.testbed.keys import write_test_keys
from tongban.testbed.processes import ServiceProcess, free_port

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



async def launch_system(
    broker: KafkaBroker, postgres: PostgresServer, log_dir: Path, *names: str, env: dict[str, str] | None = None
) -> System:
    """Start the chosen services (default: all four, always with authorization) and wait until each is ready."""
    system = System(kafka=broker, topic_prefix=f"t{uuid.uuid4().hex[:8]}")
    chosen = list(names or SERVICE_NAMES)
    if "authorization" not in chosen:
        chosen.append("authorization")
    broker.prepare(system.topic_prefix)
    ports = {name: free_port() for name in chosen}
    log_dir.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        url = await postgres.create_database(name[:4])
        system.database_urls[name] = url
        service_env = {
            "TONGBAN_ENVIRONMENT": "development",  # plain HTTP: session cookies not Secure (env may say otherwise)
            **(env or {}),
            "TONGBAN_BUS": "kafka",
            "TONGBAN_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "TONGBAN_DATABASE_URL": url,
            "TONGBAN_TOPIC_PREFIX": system.topic_prefix,
            "TONGBAN_DATA_DIR": str(log_dir / "data"),
            "TONGBAN_KEYS_DIR": str(write_test_keys(log_dir / "keys")[name]),
            "TONGBAN_OUTBOX_MAX_BACKOFF_SECONDS": "2",
            "TONGBAN_AUTHORIZATION_URL": f"http://127.0.0.1:{ports['authorization']}",
            "TONGBAN_CATALOGUE_URL": f"http://127.0.0.1:{ports.get('catalogue', free_port())}",
            **broker.service_env(system.topic_prefix, name),
        }
        system.services[name] = ServiceProcess(name, ports[name], service_env, log_dir / f"{name}.log")
    auth_env = system.services["authorization"].env
    settings = Settings.model_validate({k[len("TONGBAN_"):].lower(): v for k, v in auth_env.items()
                                        if k != "TONGBAN_DATABASE_URL"})
    async with standalone(definition("authorization"), settings, auth_env["TONGBAN_DATABASE_URL"]) as ctx, \
            ctx.uow() as uow:
        system.credentials = {c["locality"]: c for c in await bootstrap_clients(uow)}
        system.credentials[REGIONAL] = await register_regional_office(uow)
        await uow.commit()
    try:
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in system.services.values()))
    except BaseException:
        system.stop()
        raise
    return system
