"""Session-wide real infrastructure: a Kafka broker, a PostgreSQL server and a SeaweedFS object store.

None is ever skipped: if one cannot start, every test that needs it fails with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from shared.clock import FrozenClock
from tongban.testbed.infra import KafkaBroker, PostgresServer, SeaweedFS, SecuredKafkaBroker
from tongban.testbed.processes import free_port

B = TypeVar("B", bound=KafkaBroker)


def pytest_collection_finish(session: pytest.Session) -> None:
    """``TONGBAN_TEST_PAUSE_AFTER_COLLECTION=<seconds>`` waits between collection and the first test.

    It proves that no test depends on when it was collected (a clock value taken at import or in a
    parametrize list goes stale during the pause); used by hand, never in CI.
    """
    pause = float(os.environ.get("TONGBAN_TEST_PAUSE_AFTER_COLLECTION", "0") or 0)
    if pause > 0:
        print(f"\npausing {pause:.0f} s between collection and execution", flush=True)
        time.sleep(pause)


_seconds_by_part: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Adds each phase's time (set-up, call, tear-down) to the folder the test lives in."""
    part = "/".join(report.nodeid.split("/")[:2])
    _seconds_by_part[part] = _seconds_by_part.get(part, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How long each part of the suite took, so that growth is visible in every run."""
    if _seconds_by_part:
        terminalreporter.section("time per part of the suite")
        for part, seconds in sorted(_seconds_by_part.items(), key=lambda kv: -kv[1]):
            terminalreporter.write_line(f"{part:<24} {seconds:8.1f} s")


@pytest.fixture
def clock() -> FrozenClock:
    """The one injectable clock of a test: the instant the test starts, moved on only by the test."""
    return FrozenClock(time.time())


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
