"""PostgreSQL restarted under load: requests fail cleanly (503 problem+json, Retry-After), then succeed,
and nothing is half-written.

The session's PostgreSQL serves every service's database; ``restart()`` waits until it is back, so
the tests after this one find it as before. Windows submit cases (each with its Idempotency-Key,
asking again after ``Retry-After`` when refused) while readers poll a read endpoint of each service.
Every answer must be a success or a 503 problem with ``Retry-After``; never a 500 nor no answer.
Afterwards routing holds exactly one case per submission, each with its event on both localities'
topics, and no outbox holds anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter

import httpx

from shared.contracts.routing import CaseSubmitted
from tests.integration.conftest import System, SystemFactory
from tongban.testbed.infra import PostgresServer
from tongban.testbed.load import CaseLoad
from tongban.testbed.world import (
    ITEM_CODE,
    S,
    count_lost_and_duplicated,
    dead_letters,
    figures_line,
    ledger,
    prepare,
    query,
    scalar,
    settle,
)

READS = {"catalogue": f"/v1/items/{ITEM_CODE}", "routing": "/v1/cases?limit=5",
         "authorization": "/v1/agreements", "delivery": "/v1/waybills?case_id=none"}
"""A read of each service that touches its database."""


class Readers:
    """Poll one read endpoint of each service until stopped; keep every answer that is not a success."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.answers: Counter[str] = Counter()
        self.refusals: list[tuple[str, int | None, str, str | None]] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Readers:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        headers = await self.system.headers(S)
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), headers=headers) as http:
            while not self._stop.is_set():
                await asyncio.gather(*(self._read(http, name, path) for name, path in READS.items()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.02)

    async def _read(self, http: httpx.AsyncClient, name: str, path: str) -> None:
        try:
            response = await http.get(self.system.url(name) + path)
        except httpx.HTTPError as exc:
            self.answers[f"{name} none"] += 1
            self.refusals.append((name, None, type(exc).__name__, None))
            return
        self.answers[f"{name} {response.status_code}"] += 1
        if response.status_code != 200:
            self.refusals.append((name, response.status_code, response.headers.get("content-type", ""),
                                  response.headers.get("retry-after")))


async def test_postgres_restart_mid_load_fails_cleanly_and_leaves_nothing_half_written(
    start_system: SystemFactory, postgres: PostgresServer
) -> None:
    system = await start_system()
    await prepare(system)
    async with Readers(system) as readers, \
            CaseLoad(system, rate=6, retry=True, give_up_after=90, label="pg") as load:
        await asyncio.sleep(4)
        restarting_at = time.monotonic()
        await asyncio.to_thread(postgres.restart)
        restart_seconds = time.monotonic() - restarting_at
        await asyncio.sleep(6)

    attempts = [a for j in load.journeys for a in j.attempts]
    refused = [a for a in attempts if a.status != 201]
    unclean = [a for a in refused if a.status != 503 or not a.content_type.startswith("application/problem+json")
               or not a.retry_after]
    unclean_reads = [r for r in readers.refusals
                     if r[1] != 503 or not r[2].startswith("application/problem+json") or not r[3]]

    expected = {j.case_id: j.involved for j in load.journeys if j.case_id}
    await settle(system)
    routing_db = system.database_urls["routing"]
    cases = {row[0] for row in await query(routing_db, "SELECT id FROM cases")}
    unsubmitted = await scalar(routing_db, "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM "
                                           "case_timeline t WHERE t.case_id = c.id AND t.action = 'submit')")
    partyless = await scalar(routing_db, "SELECT count(*) FROM cases c WHERE (SELECT count(*) FROM case_parties p "
                                         "WHERE p.case_id = c.id) <> 2")
    letters = await dead_letters(system)
    book = await ledger(system, {c: expected.get(c, ()) for c in cases}, CaseSubmitted.ce_type())
    lost, doubled = count_lost_and_duplicated(book, {c: expected[c] for c in cases if c in expected},
                                              CaseSubmitted.ce_type())

    print(figures_line("postgres restart", restart_seconds=round(restart_seconds, 1), load=load.figures(),
                       refused_with_503=sum(a.status == 503 for a in attempts),
                       reads=dict(readers.answers), lost=len(lost) + len(letters), duplicated=len(doubled),
                       half_written=unsubmitted + partyless + len(cases - set(expected))))
    assert not unclean, f"refusals that are not 503 problem+json with Retry-After: {unclean[:5]}"
    assert not unclean_reads, f"reads that failed otherwise than 503 problem+json with Retry-After: {unclean_reads[:5]}"
    assert all(j.complete for j in load.journeys), "every refused submission succeeded when asked again"
    assert refused or readers.refusals, "the restart was felt: some request was refused while the server was away"
    assert cases == set(expected), "routing holds exactly the cases it answered 201 for (none twice, none unanswered)"
    assert unsubmitted == 0 and partyless == 0, "every case has its submission step and its two parties"
    assert lost == [] and doubled == [], (lost[:5], doubled[:5])
    reasons = [(r.header("tongban_dlt_group"), r.header("tongban_dlt_reason")) for r in letters]
    assert reasons == [], f"good events were dead-lettered while the database was away: {reasons[:5]}"
