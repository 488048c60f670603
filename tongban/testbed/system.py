"""A whole Tongban system as processes, launched outside pytest's fixtures.

The same steps as the ``start_system`` fixture of ``tests/integration/conftest.py`` (a fresh
database per service, the bootstrap clients of the four localities, each service as its own
process on one topic prefix), for the soak command and for fixtures of a wider scope.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from services.authorization.service import bootstrap_clients, register_regional_office
from shared.service import standalone
from shared.settings import SERVICE_NAMES, Settings
from tests.integration.conftest import REGIONAL, System
from tests.support.infra import KafkaBroker, PostgresServer
from tests.support.keys import write_test_keys
from tests.support.processes import ServiceProcess, free_port
from tongban.registry import definition


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
