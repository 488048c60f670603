"""The embedded system (``tongban up``) as a process for tests: its URLs, credentials and environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tongban.testbed.infra import REPO
from tongban.testbed.patience import deadline as patient_deadline
from tongban.testbed.patience import patience
from tongban.testbed.processes import port_offset

APPLICATIONS = ("catalogue", "routing", "authorization", "delivery", "dashboard")


@dataclass
class Embedded:
    """A running ``tongban up``."""

    base: dict[str, str]
    """Application name → base URL (the four services and the dashboard)."""
    credentials: list[dict[str, Any]]
    env: dict[str, str]
    log_path: Path

    def client_of(self, locality: str) -> dict[str, Any]:
        """The bootstrap client of ``locality``."""
        return next(c for c in self.credentials if c["locality"] == locality)

    def token(self, locality: str, scope: str | None = None) -> str:
        """An access token of the locality's bootstrap client."""
        client = self.client_of(locality)
        form = {"grant_type": "client_credentials", "client_id": client["client_id"],
                "client_secret": client["client_secret"], **({"scope": scope} if scope else {})}
        answer = httpx.post(self.base["authorization"] + "/oauth/token", data=form, timeout=10 * patience())
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def cli(self, *args: str) -> str:
        """Run ``tongban ARGS`` against this system's settings; its standard output."""
        ran = subprocess.run([sys.executable, "-m", "tongban.cli", *args], cwd=REPO, env=self.env,
                             capture_output=True, text=True, timeout=60 * patience())
        assert ran.returncode == 0, ran.stderr
        return ran.stdout


@contextmanager
def embedded_system(work: Path, timeout: float = 90) -> Iterator[Embedded]:
    """Start ``tongban up`` on free ports with its data under ``work``; stop it afterwards."""
    offset = port_offset()
    env = {**os.environ, "TONGBAN_DATA_DIR": str(work / "data"), "TONGBAN_PORT_OFFSET": str(offset)}
    log_path = work / "up.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tongban.cli", "up"], cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = patient_deadline(timeout)
        while "client_secret=" not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "no credentials printed"
            time.sleep(0.2)
        credentials = json.loads((work / "data" / "credentials.json").read_text())
        base = {name: f"http://127.0.0.1:{8101 + i + offset}" for i, name in enumerate(APPLICATIONS)}
        yield Embedded(base, credentials, env, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
