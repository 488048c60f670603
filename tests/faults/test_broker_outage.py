"""Kafka stopped for 30 seconds under a steady load of cases: the windows notice nothing, nothing is lost.

Cases are submitted a few a second, round robin over the twelve pairs of localities, before, during
and after the outage. Every submission must be answered 201 (routing needs Kafka for none of it:
its events wait in the outbox). After the restart every accepted case's ``CaseSubmitted`` must be
on the topic of both its localities, once (one event id per case), and delivery, which consumes
them, must have handled each exactly once.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from shared.contracts.routing import CaseSubmitted
from tests.integration.conftest import SystemFactory
from tongban.testbed.infra import KafkaBroker
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.load import CaseLoad
from tongban.testbed.world import count_lost_and_duplicated, figures_line, ledger, metric, prepare, scalar, settle

OUTAGE_SECONDS = 30
RATE = 4.0  # cases a second


async def test_cases_accepted_while_kafka_is_down_all_arrive_once(
    start_system: SystemFactory, private_kafka: KafkaBroker
) -> None:
    system = await start_system("catalogue", "routing", "delivery", broker=private_kafka)
    await prepare(system)
    submitted = CaseSubmitted.ce_type()
    async with httpx.AsyncClient(timeout=10) as http:
        async with CaseLoad(system, rate=RATE, label="outage") as load:
            await asyncio.sleep(5)
            stopping_at = time.monotonic()
            await asyncio.to_thread(private_kafka.stop)
            down_at = time.monotonic()
            await asyncio.sleep(OUTAGE_SECONDS / 2)
            ready = (await http.get(system.url("routing") + "/readyz")).json()
            waiting = await scalar(system.database_urls["routing"], "SELECT count(*) FROM outbox")
            await asyncio.sleep(max(OUTAGE_SECONDS - (time.monotonic() - down_at), 0))
            up_at = time.monotonic()
            await asyncio.to_thread(private_kafka.start)
            started_at = time.monotonic()
            await asyncio.sleep(5)
        during = [j for j in load.journeys if j.attempts and down_at <= j.attempts[0].at <= up_at]

        assert ready["status"] == "degraded" and ready["checks"]["bus"] == "unavailable", ready
        assert waiting > 0, "events of the cases accepted during the outage wait in routing's outbox"
        answers = load.statuses()
        assert set(answers) == {"201"}, f"every submission is accepted while Kafka is down: {answers}"
        # How many start inside the window depends on how busy the machine is (the figure is printed);
        # what must hold is that cases were accepted while the broker was away.
        assert len(during) >= 10, f"cases were submitted during the outage: {len(during)}"

        await settle(system)
        expected = {j.case_id: j.involved for j in load.accepted() if j.case_id}
        book = await ledger(system, expected, submitted)
        lost, doubled = count_lost_and_duplicated(book, expected, submitted)
        routing_cases = await scalar(system.database_urls["routing"], "SELECT count(*) FROM cases")

        delivery_db = system.database_urls["delivery"]

        async def delivery_knows_every_case() -> bool:
            return await scalar(delivery_db, "SELECT count(*) FROM case_parties") >= len(expected)

        await wait_for(delivery_knows_every_case, timeout=60, interval=0.5)
        await asyncio.sleep(1)
        handled = await metric(http, system.url("delivery"), "tongban_events_handled_total", type=submitted)
        inbox = await scalar(delivery_db, "SELECT count(*) FROM inbox WHERE event_type = :t", t=submitted)
        parties = await scalar(delivery_db, "SELECT count(*) FROM case_parties")

    print(figures_line("broker outage", outage_seconds=round(up_at - down_at, 1),
                       broker_stop_seconds=round(down_at - stopping_at, 1),
                       broker_start_seconds=round(started_at - up_at, 1), load=load.figures(),
                       accepted_during_outage=len(during), outbox_rows_waiting_mid_outage=waiting,
                       lost=len(lost), duplicated=len(doubled), redelivered_copies=book.copies(),
                       delivery_handled=handled, delivery_inbox=inbox))
    assert lost == [], f"{len(lost)} accepted cases never reached a topic: {lost[:5]}"
    assert doubled == [], f"{len(doubled)} cases have two CaseSubmitted events: {doubled[:5]}"
    assert routing_cases == len(expected), "routing holds exactly the cases it answered 201 for"
    assert handled == inbox == parties == len(expected), "delivery handled each case's event exactly once"
