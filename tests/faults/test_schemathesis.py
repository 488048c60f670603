"""Schemathesis against the OpenAPI document of each of the four services, with a token of every role.

Each service's document (``GET /openapi.json`` of its running process) is fuzzed by the
schemathesis CLI (examples, boundary coverage, then random fuzzing until the time budget is
spent), the four in parallel, each with a bearer token of another locality's bootstrap client
(window clerk, department officer, supervisor, maintainer, operator). Two checks: no response is a 5xx
(``not_a_server_error``), and every 4xx/5xx is ``application/problem+json`` with its type, title and
status (``tests/faults/schemathesis_hooks.py``). A failure names the operation, a curl command that
reproduces it, and the traceback the service logged.

A maintainer may revoke its own client, and schemathesis reuses the ids it reads in responses: the
authorization service's client revocation is therefore fuzzed last, on its own, so that the
client whose token the run uses is not revoked before the rest was tried.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path

from shared.settings import SERVICE_NAMES
from tests.faults.world import B, S, T, Y, figures_line, prepare, unhandled_errors
from tests.integration.conftest import System, SystemFactory
from tests.support.infra import REPO
from tests.support.patience import patience

MAX_EXAMPLES = 25
"""Test cases per operation and phase."""
SECONDS_PER_SERVICE = 45
"""Time budget of each service's run (the four run at once)."""
TOKEN_OF = {"catalogue": Y, "routing": S, "authorization": T, "delivery": B, "webhooks": S}
"""Whose token each run uses: one locality per service, so that no run revokes another's client."""
SELF_REVOKING = "/v1/clients/{client_id}/revoke"


async def _fuzz(system: System, service: str, work: Path) -> tuple[int, str]:
    if service != "authorization":
        return await _run(system, service, work, SECONDS_PER_SERVICE)
    code, text = await _run(system, service, work, SECONDS_PER_SERVICE - 8, "--exclude-path", SELF_REVOKING)
    last_code, last_text = await _run(system, service, work / "revoke", 6, "--include-path", SELF_REVOKING)
    return code or last_code, text + "\n" + last_text


async def _run(system: System, service: str, work: Path, seconds: int, *extra: str) -> tuple[int, str]:
    headers = await system.headers(TOKEN_OF[service])
    work.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", system.url(service) + "/openapi.json",
        "--header", f"Authorization: {headers['Authorization']}",
        "--checks", "not_a_server_error,problem_details_on_errors",
        "--phases", "examples,coverage,fuzzing", "--max-examples", str(MAX_EXAMPLES),
        "--max-time", str(seconds), "--request-timeout", str(15 * patience()), "--workers", "1",
        "--suppress-health-check", "all", "--no-color", "--output-truncate", "false", *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "SCHEMATHESIS_HOOKS": "tests.faults.schemathesis_hooks"}
    process = await asyncio.create_subprocess_exec(*command, cwd=work, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    (work / "schemathesis.out").write_text(text)
    return int(process.returncode or 0), text


def _failures(text: str) -> str:
    """The FAILURES section of the CLI's report (operations, failed checks, curl commands)."""
    found = re.findall(r"=+ FAILURES =+\n(.*?)\n=+ (?:WARNINGS|SUMMARY) =+", text, re.S)
    return "\n".join(found) if found else text[-3000:]


def _counted(text: str) -> str:
    return "; ".join(m.strip() for m in re.findall(r"Test cases:\n\s*(.+)", text)) or "?"


async def test_no_operation_answers_5xx_and_every_error_is_problem_json(
    start_system: SystemFactory, tmp_path: Path
) -> None:
    system = await start_system()
    await prepare(system)
    started = time.monotonic()
    results = await asyncio.gather(*(_fuzz(system, name, tmp_path / f"st-{name}") for name in SERVICE_NAMES))
    outcomes = dict(zip(SERVICE_NAMES, results, strict=True))
    print(figures_line("schemathesis", seconds=round(time.monotonic() - started, 1),
                       test_cases={name: _counted(text) for name, (_code, text) in outcomes.items()}))
    report = []
    for name, (code, text) in outcomes.items():
        if code != 0:
            log = system.services[name].log_path
            errors = "\n".join(unhandled_errors(log)) or "(no unhandled error logged)"
            report.append(f"===== {name} (exit {code}; full output in {tmp_path}/st-{name}/schemathesis.out)\n"
                          f"{_failures(text)}\n----- unhandled errors in {log}:\n{errors}")
    assert not report, "\n\n".join(report)
