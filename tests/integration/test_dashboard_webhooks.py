"""Webhook health on the dashboard, on processes with Kafka and PostgreSQL (issue 14).

Yangpu's subscription points at an endpoint that is down; once its retries run out it is failing,
and the dashboard shows it (an alert, its waiting deliveries and their age) to Yangpu's operator and
to the regional operator, never to Suzhou's; Suzhou's healthy subscription shows its delivery latency.
Resumed, the alert clears and the backlog drains. Everything the dashboard shows came to it as events.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.conftest import REGIONAL, System, SystemFactory
from tests.integration.test_webhooks import WEBHOOK_ENV, publish_item
from tests.support.cases import SUZHOU, YANGPU
from tests.support.webhook_receiver import Receiver
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.processes import free_port

HEALTH_ENV = {**WEBHOOK_ENV, "TONGBAN_WEBHOOK_RETRY_FIRST_SECONDS": "0.3", "TONGBAN_WEBHOOK_RETRY_LONGEST_SECONDS": "1",
              "TONGBAN_WEBHOOK_RETRY_HORIZON_SECONDS": "3", "TONGBAN_WEBHOOK_HEALTH_REPORT_SECONDS": "1"}
REPORT = "cn.tongban.webhooks.health.reported.v1"


async def dashboard_session(system: System, who: str, regional: bool = False) -> httpx.AsyncClient:
    """A logged-in client of the dashboard's JSON API."""
    http = httpx.AsyncClient(base_url=system.url("dashboard"), timeout=15)
    cred = system.credentials[who]
    login = await http.post("/api/session", json={
        "client_id": cred["client_id"], "client_secret": cred["client_secret"],
        "view": "regional" if regional else "locality"})
    assert login.status_code == 200, login.text
    return http


def row_of(panel: dict[str, Any], locality: str) -> dict[str, Any]:
    return next(r for r in panel["localities"] if r["locality"] == locality)


@pytest.mark.timeout(400)
async def test_a_failing_subscription_is_on_the_dashboard_of_its_locality_until_resumed(
        start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "webhooks", "dashboard", env=HEALTH_ENV)
    hooks = system.url("webhooks")
    healthy, down = Receiver(free_port()), Receiver(free_port())
    await healthy.start()
    sessions: list[httpx.AsyncClient] = []
    try:
        subs: dict[str, dict[str, Any]] = {}
        async with httpx.AsyncClient(timeout=15) as http:
            for locality, receiver in ((SUZHOU, healthy), (YANGPU, down)):
                created = await http.post(f"{hooks}/v1/subscriptions", headers=await system.headers(locality), json={
                    "url": receiver.url, "event_types": ["cn.tongban.catalogue.*"]})
                assert created.status_code == 201, created.text
                subs[locality] = created.json()
                receiver.secrets.append(subs[locality]["secret"])
            await publish_item(system, http)
            yangpu_sub = subs[YANGPU]["id"]

            async def failing_at_webhooks() -> bool:
                got = await http.get(f"{hooks}/v1/subscriptions/{yangpu_sub}", headers=await system.headers(YANGPU))
                return bool(got.json()["status"] == "failing")

            await wait_for(failing_at_webhooks, timeout=60, interval=0.3)

            yangpu, suzhou, region = (await dashboard_session(system, YANGPU), await dashboard_session(system, SUZHOU),
                                      await dashboard_session(system, REGIONAL, regional=True))
            sessions += [yangpu, suzhou, region]
            panels: dict[str, dict[str, Any]] = {}

            async def shows(client: httpx.AsyncClient, name: str, check: Any) -> bool:
                answer = await client.get("/api/panels/webhooks")
                assert answer.status_code == 200, answer.text
                panels[name] = answer.json()
                return bool(check(panels[name]))

            # Yangpu's operator: the alert, the waiting delivery and its age, as of a fresh report.
            await wait_for(lambda: shows(yangpu, "yangpu", lambda p: [f["subscription_id"] for f in p["failing"]]
                                         == [yangpu_sub] and row_of(p, YANGPU)["undelivered"] >= 1), timeout=60)
            seen = panels["yangpu"]
            assert [r["locality"] for r in seen["localities"]] == [YANGPU], "a locality's operator sees its own only"
            alert = seen["failing"][0]
            assert alert["locality"] == YANGPU and alert["url"] == down.url and alert["failing_since"]
            assert alert["last_error"].startswith("retries ran out"), alert
            row = row_of(seen, YANGPU)
            assert row["failing"] == 1 and row["active"] == 0 and not row["stale"]
            assert row["oldest_undelivered_at"] and row["oldest_undelivered_seconds"] > 0
            assert row["latency_p50_seconds"] is None and row["delivered"] == 0, "nothing reached Yangpu's endpoint"

            # Suzhou's operator: no alert (not even Yangpu's), and the latency of its own deliveries.
            await wait_for(lambda: shows(suzhou, "suzhou", lambda p: row_of(p, SUZHOU)["delivered"] >= 1), timeout=60)
            seen = panels["suzhou"]
            assert seen["failing"] == [] and [r["locality"] for r in seen["localities"]] == [SUZHOU]
            row = row_of(seen, SUZHOU)
            assert row["active"] == 1 and row["undelivered"] == 0 and row["oldest_undelivered_seconds"] == 0
            assert row["latency_p50_seconds"] is not None and row["latency_p95_seconds"] >= row["latency_p50_seconds"]
            assert healthy.accepted and healthy.accepted[0].event["type"] == "cn.tongban.catalogue.item.published.v1"

            # The regional operator sees every locality and Yangpu's alert.
            await wait_for(lambda: shows(region, "region", lambda p: len(p["failing"]) == 1), timeout=30)
            assert len(panels["region"]["localities"]) == 4
            assert row_of(panels["region"], SUZHOU)["active"] == 1 and row_of(panels["region"], YANGPU)["failing"] == 1

            # The reports travel on the locality's topic, but are neither in its feed nor delivered.
            records = await system.read_locality_topic(YANGPU, until=lambda rs: any(
                r.header("ce_type") == REPORT for r in rs))
            assert all(r.key == YANGPU.encode() for r in records if r.header("ce_type") == REPORT)
            feed = (await http.get(f"{hooks}/v1/events", params={"limit": 500},
                                   headers=await system.headers(YANGPU))).json()
            assert REPORT not in {e["event"]["type"] for e in feed["events"]}

            # Fixed and resumed: the alert clears, the backlog drains, the event arrives.
            await down.start()
            resumed = await http.post(f"{hooks}/v1/subscriptions/{yangpu_sub}/resume",
                                      headers=await system.headers(YANGPU))
            assert resumed.status_code == 200, resumed.text
            await wait_for(lambda: shows(yangpu, "yangpu", lambda p: p["failing"] == []
                                         and row_of(p, YANGPU)["undelivered"] == 0
                                         and row_of(p, YANGPU)["delivered"] >= 1), timeout=60)
            row = row_of(panels["yangpu"], YANGPU)
            assert row["active"] == 1 and row["failing"] == 0 and row["oldest_undelivered_seconds"] == 0
            assert [r.event["type"] for r in down.accepted][:1] == ["cn.tongban.catalogue.item.published.v1"]
            await wait_for(lambda: shows(region, "region", lambda p: p["failing"] == []), timeout=30)
        async with httpx.AsyncClient(base_url=system.url("dashboard"), timeout=10) as anonymous:
            refused = await anonymous.get("/api/panels/webhooks")
            assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
    finally:
        for client in sessions:
            await client.aclose()
        await healthy.stop()
        await down.stop()
