"""Session-wide real infrastructure: a Kafka broker, a PostgreSQL server and a SeaweedFS object store.

None is ever skipped: if one cannot start, every test that needs it fails with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.infra import KafkaBroker, PostgresServer, SeaweedFS
from tests.support.processes import free_port


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
    broker = KafkaBroker(port=free_port(span=2), state_dir=work_dir / "kafka")
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


@pytest.fixture(scope="session")
def seaweedfs(work_dir: Path) -> Iterator[SeaweedFS]:
    """The session's SeaweedFS (S3 API on loopback); a test may stop and start it (its data is kept)."""
    server = SeaweedFS(port=free_port(span=9), state_dir=work_dir / "seaweedfs")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def pg_url(postgres: PostgresServer) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    yield await postgres.create_database()
