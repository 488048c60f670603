"""SIGKILL routing, then delivery, in the middle of a load of posted cases; restart each; count.

Each case is submitted, accepted and forwarded by post (accepted here, handled there), each request
with its Idempotency-Key; a window that got no answer (the process was dead) asks again with the
same key. Afterwards:

- routing holds one case per journey, with one timeline step per action (no retry made a second);
- the topics of both localities hold one ``CaseSubmitted`` and one ``CaseForwarded`` per case;
- delivery issued exactly one materials waybill per forwarded case, and routing attached exactly
  that waybill to the case (delivery's event reached routing across both crashes).
"""

from __future__ import annotations

import asyncio
import time

from shared.contracts.routing import CaseForwarded, CaseSubmitted
from tests.integration.conftest import System, SystemFactory
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.load import CaseLoad
from tongban.testbed.world import count_lost_and_duplicated, figures_line, ledger, prepare, query, scalar, settle

RATE = 2.5  # cases a second, three requests each


async def _crash(system: System, name: str, dead_seconds: float = 2.0) -> dict[str, float]:
    process = system.services[name]
    killed_at = time.monotonic()
    process.kill()
    await asyncio.sleep(dead_seconds)
    await asyncio.to_thread(process.start)
    return {"dead_seconds": round(time.monotonic() - killed_at, 1)}


async def test_routing_and_delivery_killed_mid_load_lose_and_double_nothing(start_system: SystemFactory) -> None:
    system = await start_system()
    await prepare(system)
    routing_db, delivery_db = system.database_urls["routing"], system.database_urls["delivery"]
    async with CaseLoad(system, rate=RATE, mode="accepted_here_handled_there", retry=True, label="crash") as load:
        await asyncio.sleep(6)
        routing_crash = await _crash(system, "routing")
        await asyncio.sleep(6)
        delivery_crash = await _crash(system, "delivery")
        await asyncio.sleep(4)

    answers = load.statuses()
    unexpected = {a: n for a, n in answers.items() if a not in ("200", "201", "none", "503")}
    assert not unexpected, f"only success, no answer (process dead) or 503 are expected: {answers}"
    incomplete = [j for j in load.journeys if not j.complete]
    assert not incomplete, f"{len(incomplete)} journeys never completed: {incomplete[:2]}"
    assert answers["none"] > 0, "some requests met the dead routing process"

    forwarded = {j.case_id: j.involved for j in load.journeys if j.case_id}

    async def every_waybill_attached() -> bool:
        return await scalar(routing_db, "SELECT count(*) FROM cases WHERE waybill_numbers::text <> '[]'") \
            >= len(forwarded)

    await wait_for(every_waybill_attached, timeout=90, interval=0.5)
    await settle(system)
    await asyncio.sleep(1)

    cases = await scalar(routing_db, "SELECT count(*) FROM cases")
    repeated_steps = await query(routing_db, "SELECT case_id, action, count(*) FROM case_timeline "
                                             "GROUP BY case_id, action HAVING count(*) > 1")
    submitted = await ledger(system, forwarded, CaseSubmitted.ce_type())
    lost_submitted, doubled_submitted = count_lost_and_duplicated(submitted, forwarded, CaseSubmitted.ce_type())
    sent = await ledger(system, forwarded, CaseForwarded.ce_type())
    lost_forwarded, doubled_forwarded = count_lost_and_duplicated(sent, forwarded, CaseForwarded.ce_type())
    waybills = {row[0]: (row[1], row[2]) for row in await query(
        delivery_db, "SELECT case_id, count(*), min(number) FROM waybills WHERE flow = 'materials' GROUP BY case_id")}
    attached = {row[0]: row[1] for row in await query(routing_db, "SELECT id, waybill_numbers FROM cases")}
    without_waybill = [c for c in forwarded if c not in waybills]
    doubled_waybills = [c for c, (n, _number) in waybills.items() if n != 1]
    misattached = [c for c in forwarded if attached.get(c) != [waybills.get(c, (0, None))[1]]]
    attestations = await query(system.database_urls["authorization"],
                               "SELECT case_id, count(*) FROM attestations GROUP BY case_id HAVING count(*) > 1")

    print(figures_line("process crash", load=load.figures(), routing=routing_crash, delivery=delivery_crash,
                       cases=cases, lost=len(lost_submitted + lost_forwarded + without_waybill),
                       duplicated=len(doubled_submitted + doubled_forwarded + doubled_waybills + repeated_steps),
                       redelivered_copies=submitted.copies() + sent.copies(), waybills=len(waybills),
                       cases_with_an_orphan_attestation=len(attestations)))
    assert cases == len(load.journeys), "one case per journey: a retried submission made no second case"
    assert repeated_steps == [], f"a retried transition was applied twice: {repeated_steps[:5]}"
    assert lost_submitted == lost_forwarded == [], (lost_submitted[:5], lost_forwarded[:5])
    assert doubled_submitted == doubled_forwarded == [], (doubled_submitted[:5], doubled_forwarded[:5])
    assert without_waybill == [], f"{len(without_waybill)} forwarded cases have no materials waybill"
    assert doubled_waybills == [], f"cases with several materials waybills: {doubled_waybills[:5]}"
    assert misattached == [], f"routing attached no waybill or another one: {misattached[:5]}"
