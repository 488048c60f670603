"""Schemathesis against the OpenAPI document of each of the four services, with a token of every role.

Each service's document (``GET /openapi.json`` of its running process) is fuzzed by the
schemathesis CLI (examples, boundary coverage, then random fuzzing until the time budget is
spent), the four in parallel, each with a bearer token of another locality's bootstrap client
(window clerk, department officer, supervisor, maintainer, operator). On every service: no response is
a 5xx (``not_a_server_error``), and every 4xx/5xx is ``application/problem+json`` with its type, title
and status (``tests/faults/schemathesis_hooks.py``). On the services whose documents are complete
(``TYPED_SERVICES``, tests/support/contract.py), every response also conforms to the document: its
status code is declared, its content type too, its declared headers are there (``Location`` on a 201)
and its body validates against the declared schema; an operation with a bearer token refuses a
request without one, an undeclared method answers 405 with ``Allow``, a missing required header and
data that breaks the schema are refused. A failure names the operation, a curl command that
reproduces it, and the traceback the service logged.

A maintainer may revoke its own client, and schemathesis reuses the ids it reads in responses: the
authorization service's client revocation is therefore fuzzed last, on its own, so that the
client whose token the run uses is not revoked before the rest was tried.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path

import httpx

from services.dashboard.api import COOKIE
from shared.settings import SERVICE_NAMES
from tests.integration.conftest import System, SystemFactory
from tests.support.contract import TYPED_SERVICES
from tongban.testbed.infra import REPO
from tongban.testbed.patience import patience
from tongban.testbed.world import SCAN, SCAN_SHA256, B, S, T, Y, figures_line, prepare, submission, unhandled_errors

MAX_EXAMPLES = 25
"""Test cases per operation and phase."""
SECONDS_PER_SERVICE = 45
"""Time budget of each service's run (the four run at once)."""
TOKEN_OF = {"catalogue": Y, "routing": S, "authorization": T, "delivery": B, "webhooks": S, "dashboard": Y}
"""Whose token (or session, for the dashboard) each run uses: one locality per service, so that no run
revokes another's client."""
SERVICES = (*SERVICE_NAMES, "dashboard")
"""The five services and the dashboard's JSON API (``TONGBAN_SCHEMATHESIS_ONLY=routing,delivery`` runs some)."""
SELF_REVOKING = "/v1/clients/{client_id}/revoke"
LOGOUT = "/api/session"
"""The dashboard's session is ended by ``DELETE /api/session``: fuzzed last, on its own, like revocation."""
CHECKS = ("not_a_server_error", "problem_details_on_errors")
"""What every service's responses are held to."""
CONFORMANCE = ("status_code_conformance", "content_type_conformance", "response_headers_conformance",
               "response_schema_conformance", "negative_data_rejection", "missing_required_header",
               "unsupported_method", "allow_header_conformance", "ignored_auth")
"""What the responses of a service with a complete document are held to besides: ``all`` but
``positive_data_acceptance`` (schema-valid data is refused for reasons no schema says: an unknown case
id, a role the token lacks, a transition the status does not allow) and the stateful checks
(``use_after_free``, ``ensure_resource_availability``, ``object_level_authorization``: no stateful phase)."""


def checks_of(service: str) -> str:
    """The ``--checks`` of a service's run."""
    return ",".join(CHECKS + (CONFORMANCE if service in TYPED_SERVICES else ()))


async def routing_ids(system: System) -> dict[str, list[str]]:
    """A case of the routing run's locality, with its file in: ids the run mixes into the ones it makes up.

    Without them every operation on ``/v1/cases/{case_id}`` answers 404, and their 2xx bodies would
    never be checked against the document.
    """
    async with httpx.AsyncClient(base_url=system.url("routing"), headers=await system.headers(TOKEN_OF["routing"]),
                                 timeout=15 * patience()) as http:
        created = await http.post("/v1/cases", json=submission(Y))
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        uploaded = await http.put(f"/v1/cases/{case_id}/files/{SCAN_SHA256}", content=SCAN, params={"name": "id.pdf"})
        assert uploaded.status_code == 201, uploaded.text
    return {"case_id": [case_id], "sha256": [SCAN_SHA256]}


KNOWN_IDS = {"routing": routing_ids}
"""Per service: real path parameters, drawn half of the time instead of generated ones."""


REJECTIONS = ('[checks.negative_data_rejection]\n'
              'expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", '
              '"429", "5XX"]\n\n')
"""Schemathesis's answers that reject invalid data, with 413: a body past the limit (a ``maxLength``
string made long enough) is refused before it is parsed, which is a rejection too."""


def config_file(work: Path, known: dict[str, list[str]]) -> Path:
    """A schemathesis.toml binding each path parameter to its known values (probability 0.5)."""
    lines = []
    for name, values in known.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in known]
    path = work / "schemathesis.toml"
    path.write_text(REJECTIONS + "\n".join(lines) + "\n")
    return path


async def credential(system: System, service: str, work: Path) -> list[str]:
    """How a run authenticates: a bearer token in a header, or for the dashboard an operator's session cookie,
    given as the value of the document's ``session`` scheme (schemathesis then leaves it out where a check
    asks whether a request without it is refused)."""
    if service != "dashboard":
        return ["--header", "Authorization: " + (await system.headers(TOKEN_OF[service]))["Authorization"]]
    cred = system.credentials[TOKEN_OF[service]]
    async with httpx.AsyncClient(base_url=system.url("dashboard"), timeout=15 * patience()) as http:
        login = await http.post("/api/session", json={"client_id": cred["client_id"],
                                                      "client_secret": cred["client_secret"]})
        assert login.status_code == 200, login.text
    config = work / "schemathesis.toml"
    config.write_text(REJECTIONS + f'[auth.openapi.session]\napi_key = "{login.cookies[COOKIE]}"\n')
    return ["--config-file", str(config)]


async def _fuzz(system: System, service: str, work: Path) -> tuple[int, str]:
    work.mkdir(parents=True, exist_ok=True)
    if service in KNOWN_IDS:
        config = config_file(work, await KNOWN_IDS[service](system))
        return await _run(system, service, work, SECONDS_PER_SERVICE, config=config)
    last = {"authorization": SELF_REVOKING, "dashboard": LOGOUT}.get(service)
    if last is None:
        return await _run(system, service, work, SECONDS_PER_SERVICE)
    excluded = ("--exclude-path", last) if service == "authorization" else ("--exclude-method", "DELETE")
    code, text = await _run(system, service, work, SECONDS_PER_SERVICE - 8, *excluded)
    included = ("--include-path", last) if service == "authorization" else ("--include-method", "DELETE")
    last_code, last_text = await _run(system, service, work / "last", 6, *included)
    return code or last_code, text + "\n" + last_text


async def _run(system: System, service: str, work: Path, seconds: int, *extra: str,
               config: Path | None = None) -> tuple[int, str]:
    work.mkdir(parents=True, exist_ok=True)
    auth = await credential(system, service, work)
    if config is None and auth[0] != "--config-file":
        config = work / "schemathesis.toml"
        config.write_text(REJECTIONS)
    command = [
        sys.executable, "-m", "schemathesis.cli", *(["--config-file", str(config)] if config else []),
        *(auth if auth[0] == "--config-file" else []),
        "run", system.url(service) + "/openapi.json", *(auth if auth[0] == "--header" else []),
        "--checks", checks_of(service),
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
    chosen = [name for name in SERVICES if name in os.environ.get("TONGBAN_SCHEMATHESIS_ONLY", ",".join(SERVICES))]
    system = await start_system(*chosen)
    await prepare(system)
    started = time.monotonic()
    results = await asyncio.gather(*(_fuzz(system, name, tmp_path / f"st-{name}") for name in chosen))
    outcomes = dict(zip(chosen, results, strict=True))
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
