"""Two replicas each of routing, authorization and delivery, on the same databases and consumer groups.

A W1-style load (cases submitted, accepted and forwarded by post, at a sustained rate) is spread
round robin over the two routing replicas; the second routing replica asks the second
authorization replica. Afterwards:

- every journey completed; routing holds one case per journey and one timeline step per action;
- each case's ``CaseSubmitted`` and ``CaseForwarded`` are on both its localities' topics once, its
  waybill's ``WaybillCreated`` once: nothing lost, nothing duplicated;
- each case's events keep their order on each topic: ``CaseSubmitted`` first, then its status
  changes in the order of their sequence numbers, then ``CaseForwarded``;
- delivery issued one materials waybill per case, routing attached exactly that one, the
  authorization service signed one attestation per case, and its audit chain verifies;
- both replicas of each service did part of the work (requests answered, events handled).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from shared.contracts.delivery import WaybillCreated
from shared.contracts.routing import CaseForwarded, CaseStatusChanged, CaseSubmitted
from tests.integration.conftest import System, SystemFactory
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.load import CaseLoad
from tongban.testbed.processes import ServiceProcess, free_port
from tongban.testbed.world import (
    LOCALITIES,
    count_lost_and_duplicated,
    figures_line,
    ledger,
    prepare,
    query,
    read_records,
    settle,
)

RATE = 6.0  # journeys a second, three requests each
SECONDS = 20.0
REPLICATED = ("authorization", "routing", "delivery")


class _RoundRobin:
    """The system as the load sees it: each request to routing goes to the next replica."""

    def __init__(self, system: System, routing_urls: list[str]) -> None:
        self._system = system
        self._next = itertools.cycle(routing_urls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._system, name)

    def url(self, service: str) -> str:
        return next(self._next) if service == "routing" else self._system.url(service)


def _total(samples: str, name: str, contains: str = "") -> float:
    """The sum of a Prometheus counter's samples (of every label set that mentions ``contains``)."""
    total = 0.0
    for line in samples.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample.split("{")[0] == name and contains in sample:
            total += float(value)
    return total


async def _second_replicas(system: System, logs: Path) -> dict[str, ServiceProcess]:
    """A second process of each replicated service: the same database, keys, topics and consumer group."""
    replicas: dict[str, ServiceProcess] = {}
    for name in REPLICATED:  # authorization first: the second routing replica asks it
        env = dict(system.services[name].env)
        if name == "routing":
            env["TONGBAN_AUTHORIZATION_URL"] = replicas["authorization"].url
        replica = ServiceProcess(name, free_port(), env, logs / f"{name}-2.log")
        await asyncio.to_thread(replica.start)
        replicas[name] = replica
        system.services[f"{name}-2"] = replica  # stopped with the system
    return replicas


async def _order_on_topics(system: System, expected: dict[str, tuple[str, str]]) -> list[str]:
    """Cases whose events are out of order on one of their topics (by offset, within the key's partition)."""
    records = await read_records(system.kafka.bootstrap, [system.topic(loc) for loc in LOCALITIES],
                                 lambda _records: False, timeout=5)
    by_case: dict[tuple[str, str], list[tuple[int, str, int]]] = defaultdict(list)
    prefix = system.topic("")
    for r in records:
        case_id = (r.key or b"").decode()
        if case_id not in expected:
            continue
        ce_type = r.header("ce_type") or ""
        sequence = json.loads(r.value).get("sequence", 0) if ce_type == CaseStatusChanged.ce_type() else 0
        by_case[(r.topic.removeprefix(prefix), case_id)].append((r.offset, ce_type, sequence))
    wrong = []
    rank = {CaseSubmitted.ce_type(): 0, CaseStatusChanged.ce_type(): 1, CaseForwarded.ce_type(): 2}
    for (locality, case_id), seen in by_case.items():
        ordered = [(rank[t], s) for _offset, t, s in sorted(seen) if t in rank]
        if ordered != sorted(ordered) or len({s for r, s in ordered if r == 1}) != sum(r == 1 for r, _ in ordered):
            wrong.append(f"{case_id} on {locality}: {ordered}")
    return wrong


async def test_two_replicas_each_lose_double_and_reorder_nothing(start_system: SystemFactory, tmp_path: Path) -> None:
    system = await start_system()
    await prepare(system)
    replicas = await _second_replicas(system, tmp_path)
    spread = _RoundRobin(system, [system.url("routing"), replicas["routing"].url])
    async with CaseLoad(spread, rate=RATE, mode="accepted_here_handled_there", label="scale") as load:  # type: ignore[arg-type]
        await asyncio.sleep(SECONDS)

    answers = load.statuses()
    incomplete = [j for j in load.journeys if not j.complete]
    assert not incomplete, f"{len(incomplete)} journeys never completed ({answers}): {incomplete[:2]}"
    forwarded = {j.case_id: j.involved for j in load.journeys if j.case_id}
    routing_db, delivery_db = system.database_urls["routing"], system.database_urls["delivery"]

    async def every_waybill_attached() -> bool:
        rows = await query(routing_db, "SELECT count(*) FROM cases WHERE waybill_numbers::text <> '[]'")
        return rows[0][0] >= len(forwarded)

    await wait_for(every_waybill_attached, timeout=120, interval=0.5)
    await settle(system)

    cases = (await query(routing_db, "SELECT count(*) FROM cases"))[0][0]
    repeated_steps = await query(routing_db, "SELECT case_id, action, count(*) FROM case_timeline "
                                             "GROUP BY case_id, action HAVING count(*) > 1")
    lost: list[str] = []
    doubled: list[str] = []
    for ce_type in (CaseSubmitted.ce_type(), CaseForwarded.ce_type()):
        book = await ledger(system, forwarded, ce_type)
        missing, twice = count_lost_and_duplicated(book, forwarded, ce_type)
        lost += missing
        doubled += twice
    waybills = {row[0]: (row[1], row[2]) for row in await query(
        delivery_db, "SELECT case_id, count(*), min(number) FROM waybills WHERE flow = 'materials' GROUP BY case_id")}
    attached = {row[0]: row[1] for row in await query(routing_db, "SELECT id, waybill_numbers FROM cases")}
    created = await ledger(system, forwarded, WaybillCreated.ce_type())  # sender's and receiver's topics
    created_lost, created_doubled = count_lost_and_duplicated(created, forwarded, WaybillCreated.ce_type())
    attestations = {row[0]: row[1] for row in await query(
        system.database_urls["authorization"], "SELECT case_id, count(*) FROM attestations GROUP BY case_id")}
    out_of_order = await _order_on_topics(system, forwarded)

    async with httpx.AsyncClient(timeout=30) as http:
        verified = (await http.get(system.url("authorization") + "/v1/audit/verify",
                                   headers=await system.headers(LOCALITIES[0]))).json()
        work = {}
        for name in REPLICATED:
            for label, url in (("1", system.url(name)), ("2", replicas[name].url)):
                samples = (await http.get(url + "/metrics")).text
                work[f"{name}-{label}"] = {"requests": _total(samples, "tongban_http_requests_total", "/v1/"),
                                           "events_handled": _total(samples, "tongban_events_handled_total")}

    print(figures_line("scale out", load=load.figures(), cases=cases, lost=len(lost + created_lost),
                       duplicated=len(doubled + created_doubled + repeated_steps), out_of_order=len(out_of_order),
                       waybills=len(waybills), attestations=len(attestations), replicas=work,
                       audit_chain=verified))
    assert cases == len(load.journeys), "one case per journey"
    assert repeated_steps == [], f"a step was applied twice: {repeated_steps[:5]}"
    assert lost == [] and created_lost == [], (lost[:5], created_lost[:5])
    assert doubled == [] and created_doubled == [], (doubled[:5], created_doubled[:5])
    assert out_of_order == [], out_of_order[:5]
    assert sorted(waybills) == sorted(forwarded) and all(n == 1 for n, _ in waybills.values()), waybills
    assert all(attached.get(c) == [waybills[c][1]] for c in forwarded), "routing attached the waybill delivery made"
    assert sorted(attestations) == sorted(forwarded) and set(attestations.values()) == {1}, attestations
    assert verified.get("intact") is True, verified
    assert work["routing-1"]["requests"] > 0 and work["routing-2"]["requests"] > 0, work
    assert work["authorization-1"]["requests"] > 0 and work["authorization-2"]["requests"] > 0, work
    # The consumer group shares the topics' partitions out: both delivery replicas handled events.
    assert work["delivery-1"]["events_handled"] > 0 and work["delivery-2"]["events_handled"] > 0, work
