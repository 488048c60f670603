"""Delivery end to end on Kafka and PostgreSQL, services as processes, the carrier simulated.

A case's materials and its result travel through the simulated carrier; the webhook refuses bad
signatures and stale timestamps; duplicated and reordered events leave the right final status.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.delivery.domain import sign
from shared.contracts.routing import CaseForwarded
from shared.envelope import Envelope, Record, parse_record
from shared.settings import Settings
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tests.support.agreements import activate
from tests.support.kafka_io import produce_raw, read_topic, wait_for
from tongban.simulator import CarrierClient, CarrierCredentials, simulate

SUZHOU, BOZHOU, YANGPU = "320505", "341600", "310110"
ITEM = {
    "code": "YRD-SB-0002", "name_zh": "社会保障卡补换", "name_en": "Social security card replacement",
    "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
    "committed_days": 5,
}
HMAC_SECRET = Settings(secret_key="test-secret-key").derived_key("carrier-hmac:ems")
MATERIALS = [hashlib.sha256(f"材料 {i}".encode()).hexdigest() for i in range(3)]


async def carrier_of(system: System, locality: str) -> CarrierClient:
    """A carrier client registered by the locality's maintainer, as a simulator would hold it."""
    async with httpx.AsyncClient(timeout=10, headers=await system.headers(locality)) as http:
        response = await http.post(system.url("authorization") + "/v1/clients",
                                   json={"locality": locality, "name": "EMS 模拟承运", "roles": ["carrier"]})
    assert response.status_code == 201, response.text
    issued = response.json()
    return CarrierClient(
        CarrierCredentials(delivery_url=system.url("delivery"), hmac_secret=HMAC_SECRET,
                           token_url=system.url("authorization") + "/oauth/token",
                           client_id=issued["client_id"], client_secret=issued["client_secret"]),
        httpx.AsyncClient(timeout=30),
    )


def case_events(records: list[Record], case_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, e.data) for e in (parse_record(r)[0] for r in records if r.key == case_id.encode())]


async def advance(http: httpx.AsyncClient, routing: str, case_id: str, action: str, reached: str,
                  headers: dict[str, str] | None = None) -> None:
    """Take an action on a case, unless routing already took it on delivery's event (409 then)."""
    response = await http.post(f"{routing}/v1/cases/{case_id}/transitions", json={"action": action},
                               headers=headers)
    if response.status_code == 409:
        current = (await http.get(f"{routing}/v1/cases/{case_id}", headers=headers)).json()["status"]
        assert current == reached, response.text
        return
    assert response.status_code == 200, response.text


async def test_materials_and_result_travel_through_the_simulated_carrier(start_system: SystemFactory) -> None:
    system = await start_system()
    await activate(system, [SUZHOU, BOZHOU])
    suzhou, bozhou = await system.headers(SUZHOU), await system.headers(BOZHOU)
    catalogue, routing, delivery = system.url("catalogue"), system.url("routing"), system.url("delivery")
    async with httpx.AsyncClient(timeout=10, headers=suzhou) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(f"{catalogue}/v1/items", json=ITEM, headers=regional)).status_code == 201
        assert (await http.post(f"{catalogue}/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
        submission = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there",
                      "ownership": {"insured_place": [BOZHOU]}, "applicant_id": "11010519491231002X",
                      "materials": [{"name": f"材料 {i}", "form": "electronic", "sha256": h}
                                    for i, h in enumerate(MATERIALS)]}
        created: list[httpx.Response] = []

        async def submitted() -> bool:
            created.append(await http.post(f"{routing}/v1/cases", json=submission))
            return created[-1].status_code == 201

        await wait_for(submitted, timeout=30, interval=0.3)
        case_id = created[-1].json()["id"]
        await advance(http, routing, case_id, "accept", "accepted")
        await advance(http, routing, case_id, "forward", "forwarded")

        waybills: list[dict[str, Any]] = []

        async def waybill_of(flow: str, headers: dict[str, str]) -> bool:
            found = (await http.get(f"{delivery}/v1/waybills", params={"case_id": case_id}, headers=headers)).json()
            waybills[:] = [w for w in found if w["flow"] == flow]
            return bool(waybills)

        await wait_for(lambda: waybill_of("materials", suzhou), timeout=30)
        materials = waybills[0]
        assert (materials["sender_locality"], materials["receiver_locality"]) == (SUZHOU, BOZHOU)
        assert sorted(materials["contents"]["material_hashes"]) == sorted(MATERIALS)
        assert materials["status"] == "created"
        assert materials["receiver_address"]["postcode"] == "236800"
        assert "****" in materials["receiver_address"]["phone"], "phones are masked"
        assert (await http.get(f"{delivery}/v1/waybills/{materials['number']}",
                               headers=await system.headers(YANGPU))).status_code == 404

        carrier = await carrier_of(system, SUZHOU)
        async with carrier.http:
            report = await simulate(carrier, [materials["number"]], scenario="failed_attempt", speed=500_000,
                                    duplicates=0.5, reorder=0.3, seed=11)
            assert report.refused == 0 and report.failed_requests == 0, report.summary()
            assert report.duplicates >= 1
            assert report.statuses == {materials["number"]: "delivered"}
            trail = (await http.get(f"{delivery}/v1/waybills/{materials['number']}/events")).json()
            assert trail[0]["code"] == "EMA" and trail[-1]["code"] == "EMI"
            assert all(e["reason"] for e in trail if e["code"] == "EMH")

            receipt = await http.post(f"{delivery}/v1/waybills/{materials['number']}/receipt",
                                      json={"material_hashes": list(reversed(MATERIALS))}, headers=bozhou)
            assert receipt.status_code == 200, receipt.text
            assert receipt.json()["outcome"] == "confirmed" and receipt.json()["waybill"]["receipt"] == "confirmed"
            refused = await http.post(f"{delivery}/v1/waybills/{materials['number']}/receipt",
                                      json={"material_hashes": MATERIALS})
            assert refused.status_code == 403, "only the receiving locality confirms"

            async def case_is(status: str) -> bool:
                return bool((await http.get(f"{routing}/v1/cases/{case_id}")).json()["status"] == status)

            # Routing receives the case on the confirmed receipt; the owner handles it and issues the
            # result, which delivery sends back; routing marks the result delivered on its arrival.
            await wait_for(lambda: case_is("received"), timeout=30)
            for action, reached in (("start_review", "under_review"), ("approve", "approved"),
                                    ("issue_result", "result_issued")):
                await advance(http, routing, case_id, action, reached, bozhou)
            await wait_for(lambda: waybill_of("result", bozhou), timeout=30)
            result = waybills[0]
            assert (result["sender_locality"], result["receiver_locality"]) == (BOZHOU, SUZHOU)
            assert result["deliver_to"] == "pickup_window"
            report = await simulate(carrier, [result["number"]], scenario="delivered", speed=500_000, seed=5)
            assert report.statuses == {result["number"]: "delivered"} and report.refused == 0
            await wait_for(lambda: case_is("result_delivered"), timeout=30)
            closed = await http.post(f"{routing}/v1/cases/{case_id}/transitions", json={"action": "close"})
            assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text

    wanted = {"cn.tongban.delivery.receipt.confirmed.v1", "cn.tongban.delivery.waybill.status_changed.v1"}
    for locality in (SUZHOU, BOZHOU):
        def done(records: list[Record]) -> bool:
            events = case_events(records, case_id)
            return sum(1 for t, d in events if t.endswith("status_changed.v1") and d["to_status"] == "delivered") == 2

        records = await read_topic(system.kafka.bootstrap, system.topic(locality), until=done)
        events = case_events(records, case_id)
        assert wanted <= {t for t, _ in events}
        delivered = [d for t, d in events if t.endswith("status_changed.v1") and d["to_status"] == "delivered"]
        assert {d["flow"] for d in delivered} == {"materials", "result"}
        assert all(d["case_id"] == case_id and {d["sender_locality"], d["receiver_locality"]} == {SUZHOU, BOZHOU}
                   for d in delivered)
        attempted = [d for t, d in events if t.endswith("status_changed.v1") and d["to_status"] == "delivery_attempted"]
        assert all(d["reason"] for d in attempted)
        # Routing's side: every step of the case, in order, on both localities' topics.
        steps = await read_topic(system.kafka.bootstrap, system.topic(locality), until=lambda rs: any(
            r.key == case_id.encode() and r.header("ce_type") == "cn.tongban.routing.case.status_changed.v1"
            and json.loads(r.value)["to_status"] == "closed" for r in rs))
        moves = [json.loads(r.value)["to_status"] for r in steps if r.key == case_id.encode()
                 and r.header("ce_type") == "cn.tongban.routing.case.status_changed.v1"]
        assert moves == ["accepted", "forwarded", "received", "under_review", "approved", "result_issued",
                         "result_delivered", "closed"]
    yangpu = await read_topic(system.kafka.bootstrap, system.topic(YANGPU), until=lambda rs: len(rs) > 0)
    assert not [r for r in yangpu if r.key == case_id.encode()]


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
