"""Throttled logins (issue 18, item 8) against the real services on PostgreSQL.

Wrong secrets at ``/oauth/token`` and at the dashboard's login answer 429 with ``Retry-After``
once a client id (or a source address) failed too often in a window; the failures reach the audit
log as one line per window, not one per failure; an unknown client id answers in the time a known
one does.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from typing import Any

import httpx

from tests.integration.conftest import SystemFactory
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.world import query

SUZHOU, YANGPU = "320505", "310110"
WINDOW = 30


def in_window_start(window: int) -> bool:
    """Whether the current fixed window has most of its time ahead (the requests fit in one)."""
    return time.time() % window < 2


async def token(http: httpx.AsyncClient, url: str, client_id: str, secret: str) -> httpx.Response:
    return await http.post(url + "/oauth/token", data={"grant_type": "client_credentials",
                                                      "client_id": client_id, "client_secret": secret})


async def test_wrong_secrets_are_throttled_and_audited_once_per_window(start_system: SystemFactory) -> None:
    system = await start_system("dashboard", env={
        "TONGBAN_THROTTLE_WINDOW_SECONDS": str(WINDOW), "TONGBAN_THROTTLE_CLIENT_FAILURES": "10",
        "TONGBAN_THROTTLE_ADDRESS_FAILURES": "40"})
    auth, dashboard = system.url("authorization"), system.url("dashboard")
    suzhou, yangpu = system.credentials[SUZHOU], system.credentials[YANGPU]
    await wait_for(lambda: in_window_start(WINDOW), timeout=WINDOW + 5, interval=0.2)
    window = time.time() // WINDOW
    async with httpx.AsyncClient(timeout=15) as http:
        # The dashboard: 15 wrong secrets for Yangpu's client.
        logins = [await http.post(dashboard + "/api/session", json={"client_id": yangpu["client_id"],
                                                                    "client_secret": "wrong"})
                  for _ in range(15)]
        assert [r.status_code for r in logins] == [401] * 10 + [429] * 5, [r.text for r in logins]
        _assert_throttled(logins[-1], WINDOW)

        # The token endpoint: 30 wrong secrets for Suzhou's client, then the right one.
        answers = [await token(http, auth, suzhou["client_id"], "wrong") for _ in range(30)]
        assert [r.status_code for r in answers] == [401] * 10 + [429] * 20, [r.text for r in answers]
        _assert_throttled(answers[-1], WINDOW)
        assert (await token(http, auth, suzhou["client_id"], suzhou["client_secret"])).status_code == 429, \
            "a client id under attack waits out its window, even with its secret"
        # The address failed 10 (through the dashboard) + 30 times: another client id from it waits too.
        other = await token(http, auth, f"{SUZHOU}-{uuid.uuid4().hex[:8]}", "wrong")
        assert other.status_code == 429, other.text
        # Another client, from the same address, after the window: answers again.
        assert time.time() // WINDOW == window, "the attempts did not fit in one window"
        await wait_for(lambda: time.time() // WINDOW > window, timeout=WINDOW + 5, interval=0.2)
        assert (await token(http, auth, suzhou["client_id"], suzhou["client_secret"])).status_code == 200

    # One audit line per window and key: Suzhou's chain gains one line saying 30, not 30 lines.
    async def audited() -> list[Any]:
        return await query(system.database_urls["authorization"],
                           "SELECT locality, actor, action, detail FROM audit_log "
                           "WHERE action LIKE 'token.refused%' ORDER BY id")

    await wait_for(lambda: _has(audited, SUZHOU), timeout=WINDOW + 30, interval=0.5)
    lines = await audited()
    mine = [row for row in lines if row[0] == SUZHOU]
    assert len(mine) == 1 and mine[0][1] == suzhou["client_id"], lines
    detail = mine[0][3] if isinstance(mine[0][3], dict) else json.loads(mine[0][3])
    assert detail["failures"] == 31 and detail["window_seconds"] == WINDOW, detail
    yangpu_lines = [row for row in lines if row[0] == YANGPU]
    assert len(yangpu_lines) == 1, lines
    assert len(lines) <= 4, f"one line per key and window, not per failure: {lines}"


async def _has(audited: Any, locality: str) -> bool:
    return any(row[0] == locality for row in await audited())


def _assert_throttled(response: httpx.Response, window: int) -> None:
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    assert response.json()["status"] == 429 and response.json()["type"].endswith("too-many-attempts")
    assert 1 <= int(response.headers["retry-after"]) <= window


async def test_unknown_client_ids_answer_in_the_time_of_known_ones(start_system: SystemFactory) -> None:
    system = await start_system("authorization", env={
        "TONGBAN_THROTTLE_CLIENT_FAILURES": "1000", "TONGBAN_THROTTLE_ADDRESS_FAILURES": "1000"})
    auth = system.url("authorization")
    known = system.credentials[SUZHOU]["client_id"]
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    async with httpx.AsyncClient(timeout=15) as http:
        for round_ in range(16):
            for kind in ("known", "unknown") if round_ % 2 else ("unknown", "known"):
                client_id = known if kind == "known" else f"{SUZHOU}-{uuid.uuid4().hex[:8]}"
                started = time.perf_counter()
                answer = await token(http, auth, client_id, "wrong-secret")
                elapsed = time.perf_counter() - started
                assert answer.status_code == 401, answer.text
                if round_ >= 2:  # the first rounds warm the connection and the process
                    times[kind].append(elapsed)
    known_median, unknown_median = statistics.median(times["known"]), statistics.median(times["unknown"])
    assert unknown_median >= 0.8 * known_median, (
        f"unknown ids answer in {unknown_median * 1000:.1f} ms, known ones in {known_median * 1000:.1f} ms")
