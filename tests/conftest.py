"""Session-wide real infrastructure: a Kafka broker and a PostgreSQL server, started by the suite.

Neither is ever skipped: if one cannot start, every test that needs it fails with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support.infra import KafkaBroker, PostgresServer, SecuredKafkaBroker
from tests.support.processes import free_port

B = TypeVar("B", bound=KafkaBroker)


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    """A scratch folder for the session (PostgreSQL needs its parents traversable)."""
    path = Path(tempfile.mkdtemp(prefix="tongban-test-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    if not os.environ.get("TONGBAN_TEST_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka(work_dir: Path) -> Iterator[KafkaBroker]:
    """The session's Kafka broker."""
    yield from _running(KafkaBroker(port=free_port(span=2), state_dir=work_dir / "kafka"))


@pytest.fixture(scope="session")
def secure_kafka(work_dir: Path) -> Iterator[SecuredKafkaBroker]:
    """A second broker of the session with SASL/SCRAM over TLS and ACLs on (issue 14)."""
    yield from _running(SecuredKafkaBroker(port=free_port(span=2), state_dir=work_dir / "kafka-secured"))


def _running(broker: B) -> Iterator[B]:
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def postgres(work_dir: Path) -> Iterator[PostgresServer]:
    """The session's PostgreSQL server."""
    server = PostgresServer(port=free_port(), state_dir=work_dir / "postgres")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def pg_url(postgres: PostgresServer) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    yield await postgres.create_database()
