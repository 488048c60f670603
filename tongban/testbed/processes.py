"""Services as separate operating-system processes (``tongban serve <service>``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tongban.testbed.infra import REPO
from tongban.testbed.patience import deadline


@dataclass
class ServiceProcess:
    """One service running as its own process."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_ready: bool = True, timeout: float = 300) -> None:
        """Start the process and wait until ``/readyz`` says ready.

        The wait ends as soon as the service is ready; its bound is wide because a busy machine can
        take a minute to import and migrate a service (it only matters when something is broken).
        """
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tongban.cli", "serve", self.name],
            cwd=REPO, env={**os.environ, **self.env, "TONGBAN_PORT": str(self.port)},
            stdout=log, stderr=subprocess.STDOUT,
        )
        give_up_at = deadline(timeout)
        path = "/readyz" if wait_ready else "/healthz"
        while time.monotonic() < give_up_at:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                response = httpx.get(self.url + path, timeout=1)
                if response.status_code == 200 and (not wait_ready or response.json()["status"] == "ready"):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        """The last lines of the process's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill after 15 s."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no clean-up at all."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux), or the IANA default."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def free_port(span: int = 1) -> int:
    """A TCP port free on loopback now, with the ``span - 1`` ports after it free too.

    Picked below the kernel's ephemeral range: a port inside it can be taken, between the probe and
    the server's bind, by any process's outgoing connection (Kafka clients, HTTP pools), which on a
    busy machine made a whole module's system fail to start.
    """
    import random
    import socket

    low, _high = _ephemeral_range()
    top = min(low, 65536) - span
    for _ in range(200):
        port = random.randrange(20000, max(top, 20001))
        try:
            for candidate in range(port, port + span):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port range found")


def port_offset() -> int:
    """A ``TONGBAN_PORT_OFFSET`` whose whole range of default ports (8101-8106) is free."""
    from shared.settings import DEFAULT_PORTS

    first, last = min(DEFAULT_PORTS.values()), max(DEFAULT_PORTS.values())
    return free_port(span=last - first + 1) - first
