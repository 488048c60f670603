"""The whole case flows, as functions that tests run on a plain or on a secured system."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from shared.envelope import Record, parse_record
from tests.integration.conftest import REGIONAL, System
from tongban.simulator import CarrierClient, CarrierCredentials, simulate
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.keys import known_key

SUZHOU, BOZHOU, YANGPU = "320505", "341600", "310110"
ITEM = {
    "code": "YRD-SB-0002", "name_zh": "社会保障卡补换", "name_en": "Social security card replacement",
    "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
    "committed_days": 5,
}
HMAC_SECRET = known_key("delivery", "carrier-hmac-ems")
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


def polled(answer: httpx.Response) -> Any:
    """The JSON of a polled answer, or None while the service answers 5xx (a loaded machine: its database
    or its key fetch was slow); any other status than 200 fails with its body."""
    if answer.status_code >= 500:
        return None
    assert answer.status_code == 200, answer.text
    return answer.json()


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


async def posted_case_flow(system: System) -> str:
    """Accepted here, handled there, from submission to closing, on a running system of processes; the case id.

    Suzhou accepts, Bozhou owns; materials and the result travel through the simulated carrier.
    Every locality's topic is read as that locality's own system reads it
    (:meth:`System.read_locality_topic`: its principal on a secured broker).
    """
    await activate(system, [SUZHOU, BOZHOU])
    suzhou, bozhou = await system.headers(SUZHOU), await system.headers(BOZHOU)
    catalogue, routing, delivery = system.url("catalogue"), system.url("routing"), system.url("delivery")
    async with httpx.AsyncClient(timeout=10, headers=suzhou) as http:
        regional = await system.headers(REGIONAL)  # the joint office writes the catalogue
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
            found = polled(await http.get(f"{delivery}/v1/waybills", params={"case_id": case_id}, headers=headers))
            if found is None:
                return False
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
                case = polled(await http.get(f"{routing}/v1/cases/{case_id}"))
                return case is not None and case["status"] == status

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

        records = await system.read_locality_topic(locality, until=done)
        events = case_events(records, case_id)
        assert wanted <= {t for t, _ in events}
        delivered = [d for t, d in events if t.endswith("status_changed.v1") and d["to_status"] == "delivered"]
        assert {d["flow"] for d in delivered} == {"materials", "result"}
        assert all(d["case_id"] == case_id and {d["sender_locality"], d["receiver_locality"]} == {SUZHOU, BOZHOU}
                   for d in delivered)
        attempted = [d for t, d in events if t.endswith("status_changed.v1") and d["to_status"] == "delivery_attempted"]
        assert all(d["reason"] for d in attempted)
        # Routing's side: every step of the case, in order, on both localities' topics.
        steps = await system.read_locality_topic(locality, until=lambda rs: any(
            r.key == case_id.encode() and r.header("ce_type") == "cn.tongban.routing.case.status_changed.v1"
            and json.loads(r.value)["to_status"] == "closed" for r in rs))
        moves = [json.loads(r.value)["to_status"] for r in steps if r.key == case_id.encode()
                 and r.header("ce_type") == "cn.tongban.routing.case.status_changed.v1"]
        assert moves == ["accepted", "forwarded", "received", "under_review", "approved", "result_issued",
                         "result_delivered", "closed"]
    yangpu = await system.read_locality_topic(YANGPU, until=lambda rs: len(rs) > 0)
    assert not [r for r in yangpu if r.key == case_id.encode()]
    return str(case_id)
