"""What production settings change, at services run as processes (`tongban serve`).

``TONGBAN_ENVIRONMENT`` is ``production`` unless said otherwise: the development carrier simulator
does not exist (not even on the in-process bus), and the dashboard's session cookie is ``Secure``
although the request came over plain HTTP (a TLS-terminating proxy in front speaks HTTP to us).
Under ``development`` the cookie follows the request's scheme. ``tongban up`` is the only
``embedded`` system (tests/integration/test_request_limits.py checks that the simulator is there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tongban.testbed.infra import REPO
from tongban.testbed.processes import ServiceProcess, free_port

SIMULATE = "/v1/dev/carrier/simulate"


def _env(data: Path, **extra: str) -> dict[str, str]:
    return {"TONGBAN_BUS": "memory", "TONGBAN_DATA_DIR": str(data),
            **extra}


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.stop()


def _start(processes: list[ServiceProcess], name: str, env: dict[str, str], log: Path) -> ServiceProcess:
    process = ServiceProcess(name, free_port(), env, log)
    processes.append(process)
    process.start()
    return process


@pytest.mark.parametrize("environment", [None, "production", "development"])
def test_the_simulator_route_does_not_exist_outside_the_embedded_system(
    tmp_path: Path, processes: list[ServiceProcess], environment: str | None
) -> None:
    extra = {"TONGBAN_ENVIRONMENT": environment} if environment else {}
    delivery = _start(processes, "delivery", _env(tmp_path / "data", **extra), tmp_path / "delivery.log")
    with httpx.Client(timeout=10) as http:
        assert SIMULATE not in http.get(delivery.url + "/openapi.json").json()["paths"]
        answer = http.post(delivery.url + SIMULATE, json={"waybill_number": "EA000000000CN"})
        assert answer.status_code == 404, answer.text  # no such route: not even a 401 for want of a token
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_session_cookie_is_secure_under_production_settings(
    tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    data = tmp_path / "data"
    env = _env(data, TONGBAN_ENVIRONMENT="production")
    made = subprocess.run([sys.executable, "-m", "tongban.cli", "clients", "bootstrap"], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    client = next(c for c in json.loads(made.stdout) if c["locality"] == "320505")
    authorization = _start(processes, "authorization", env, tmp_path / "authorization.log")
    linked = {"TONGBAN_AUTHORIZATION_URL": authorization.url}
    login = {"client_id": client["client_id"], "client_secret": client["client_secret"]}
    for environment, secure in (("production", True), ("development", False)):
        dashboard = _start(processes, "dashboard",
                           _env(tmp_path / environment, TONGBAN_ENVIRONMENT=environment, **linked),
                           tmp_path / f"dashboard-{environment}.log")
        with httpx.Client(timeout=20) as http:
            answer = http.post(dashboard.url + "/api/session", json=login)
            assert answer.status_code == 200, answer.text
            cookie = answer.headers["set-cookie"]
            attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
            assert ("secure" in attributes) is secure, (environment, cookie)
            assert {"httponly", "samesite"} <= attributes
            assert answer.headers["cache-control"] == "no-store"

