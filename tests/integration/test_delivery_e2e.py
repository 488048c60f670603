"""Delivery end to end on Kafka and PostgreSQL, services as processes, the carrier simulated.

A case's materials and its result travel through the simulated carrier; the webhook refuses bad
signatures and stale timestamps; duplicated and reordered events leave the right final status.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.delivery.domain import sign
from shared.contracts.routing import CaseForwarded
from shared.envelope import Envelope, Record
from tests.integration.conftest import SystemFactory
from tests.support.flows import HMAC_SECRET, MATERIALS, carrier_of, case_events, posted_case_flow
from tongban.simulator import simulate
from tongban.testbed.kafka_io import produce_raw, read_topic, wait_for

SUZHOU, BOZHOU, YANGPU = "320505", "341600", "310110"


async def test_materials_and_result_travel_through_the_simulated_carrier(start_system: SystemFactory) -> None:
    await posted_case_flow(await start_system())


async def signed_post(http: httpx.AsyncClient, url: str, token: str, events: list[dict[str, Any]],
                      timestamp: int | None = None, secret: bytes = HMAC_SECRET,
                      headers: dict[str, str] | None = None) -> httpx.Response:
    body = json.dumps({"events": events}).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return await http.post(url + "/v1/carrier/events", content=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "X-Tongban-Timestamp": stamp,
        "X-Tongban-Signature": sign(secret, stamp, body), **(headers or {})})


async def test_webhook_signatures_duplicates_reordering_and_lateness(start_system: SystemFactory) -> None:
    system = await start_system("delivery")
    delivery = system.url("delivery")
    for case_id in ("case-e2e-1", "case-e2e-2"):
        event = CaseForwarded(case_id=case_id, accepting_locality=SUZHOU, owning_locality=BOZHOU,
                              material_hashes=MATERIALS)
        record = Envelope.wrap(event, "/tongban/routing").to_record(system.topic(SUZHOU))
        await produce_raw(system.kafka.bootstrap, record.topic, record.value, record.key, list(record.headers))
    numbers: dict[str, str] = {}
    carrier = await carrier_of(system, SUZHOU)
    async with carrier.http as http:
        token = await carrier.token()
        suzhou = await system.headers(SUZHOU)

        async def waybills_exist() -> bool:
            for case_id in ("case-e2e-1", "case-e2e-2"):
                found = (await http.get(f"{delivery}/v1/waybills", params={"case_id": case_id},
                                        headers=suzhou)).json()
                if found:
                    numbers[case_id] = found[0]["number"]
            return len(numbers) == 2

        await wait_for(waybills_exist, timeout=30)
        number = numbers["case-e2e-1"]
        now = datetime.now(UTC).replace(microsecond=0)

        def ev(code: str, hours_ago: float, **extra: str) -> dict[str, Any]:
            return {"waybill_number": number, "code": code,
                    "occurred_at": (now - timedelta(hours=hours_ago)).isoformat(), **extra}

        ema, emg, emi = ev("EMA", 20), ev("EMG", 6), ev("EMI", 1)
        emh = ev("EMH", 5, reason="收件人不在", action="redeliver")

        # Authentication: a carrier token AND a fresh signature over this very body.
        body = json.dumps({"events": [ema]}).encode()
        stamp = str(int(time.time()))
        good = {"X-Tongban-Timestamp": stamp, "X-Tongban-Signature": sign(HMAC_SECRET, stamp, body),
                "Content-Type": "application/json"}
        no_token = await http.post(delivery + "/v1/carrier/events", content=body, headers=good)
        assert no_token.status_code == 401
        clerk = await http.post(delivery + "/v1/carrier/events", content=body, headers={**good, **suzhou})
        assert clerk.status_code == 403, "a locality system without the carrier role"
        bearer = {"Authorization": f"Bearer {token}"}
        tampered = await http.post(delivery + "/v1/carrier/events", content=body.replace(b"EMA", b"EMI"),
                                   headers={**good, **bearer})
        assert tampered.status_code == 401 and tampered.json()["type"].endswith("bad-signature")
        assert tampered.headers["content-type"] == "application/problem+json"
        for refused in (
            await signed_post(http, delivery, token, [ema], timestamp=int(time.time()) - 301),
            await signed_post(http, delivery, token, [ema], timestamp=int(time.time()) + 400),
            await signed_post(http, delivery, token, [ema], secret=b"not the carrier's secret"),
            await signed_post(http, delivery, token, [ema], headers={"X-Tongban-Carrier": "cnpost"}),
            await http.post(delivery + "/v1/carrier/events", content=body,
                            headers={**bearer, "Content-Type": "application/json", "X-Tongban-Timestamp": stamp}),
        ):
            assert refused.status_code == 401, refused.text
            assert refused.json()["status"] == 401
        assert "stale" in (await signed_post(http, delivery, token, [ema],
                                             timestamp=int(time.time()) - 301)).json()["detail"]
        malformed = await http.post(delivery + "/v1/carrier/events", content=b"[1,2",
                                    headers={**bearer, **_signed(b"[1,2")})
        assert malformed.status_code == 422
        view = (await http.get(f"{delivery}/v1/waybills/{number}", headers=suzhou)).json()
        assert view["status"] == "created", "nothing refused may have changed the waybill"
        dev = await http.post(f"{delivery}/v1/dev/carrier/simulate", json={"waybill_number": number}, headers=suzhou)
        assert dev.status_code == 404, "the development simulator exists only in the embedded system"

        # Out of order, duplicated, with bad events beside the good ones.
        first = await signed_post(http, delivery, token, [emi, emg, emg, ev("EMZ", 3),
                                                          {**emi, "waybill_number": "EA123456784CN"},
                                                          {"waybill_number": number, "code": "EMA"}])
        assert first.status_code == 207, first.text
        outcome = first.json()
        assert [r["outcome"] for r in outcome["results"]] == ["accepted", "accepted", "duplicate", "refused",
                                                              "refused", "refused"]
        assert (outcome["accepted"], outcome["duplicates"], outcome["refused"]) == (2, 1, 3)
        assert "EMZ" in outcome["results"][3]["reason"] and "check digit" in outcome["results"][4]["reason"]
        assert "occurred_at" in outcome["results"][5]["reason"]
        assert outcome["results"][0]["status"] == "delivered"
        second = await signed_post(http, delivery, token, [ema, emh, emi])
        assert second.status_code == 200 and [r["outcome"] for r in second.json()["results"]] == [
            "accepted", "accepted", "duplicate"]
        again = await signed_post(http, delivery, token, [emh, ema, emg, emi])
        assert again.status_code == 200 and again.json()["duplicates"] == 4
        view = (await http.get(f"{delivery}/v1/waybills/{number}", headers=suzhou)).json()
        assert view["status"] == "delivered" and view["attempts"] == 1 and not view["late"]
        assert view["posted_at"].startswith(ema["occurred_at"][:19])
        trail = (await http.get(f"{delivery}/v1/waybills/{number}/events", headers=suzhou)).json()
        assert [e["code"] for e in trail] == ["EMA", "EMG", "EMH", "EMI"]

        # A journey that misses its target (48 h between Suzhou and Bozhou) is flagged late.
        late = numbers["case-e2e-2"]
        report = await simulate(carrier, [late], scenario="delivered", clock="backdated", late=True, speed=1e7,
                                seed=2)
        assert report.statuses == {late: "delivered"}, report.summary()
        assert (await http.get(f"{delivery}/v1/waybills/{late}", headers=suzhou)).json()["late"] is True

    def settled(records: list[Record]) -> bool:
        return any(r.header("ce_type") == "cn.tongban.delivery.waybill.late.v1" for r in records)

    records = await read_topic(system.kafka.bootstrap, system.topic(BOZHOU), until=settled)
    changes = [d for t, d in case_events(records, "case-e2e-1") if t.endswith("status_changed.v1")]
    assert [(d["from_status"], d["to_status"]) for d in changes] == [("created", "delivered")], \
        "events older than the delivery, or repeated, never move the status back"
    late_events = [d for t, d in case_events(records, "case-e2e-2") if t.endswith("waybill.late.v1")]
    assert len(late_events) == 1 and late_events[0]["target_hours"] == 48


def _signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"X-Tongban-Timestamp": stamp, "X-Tongban-Signature": sign(HMAC_SECRET, stamp, body),
            "Content-Type": "application/json"}
