"""Issue 16's defects, end to end on processes, Kafka and PostgreSQL (each failed before its fix)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any
from urllib.parse import urlsplit

import httpx

from services.routing.domain.identifiers import resident_id_check, uscc_check
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tests.support.flows import carrier_of, case_events
from tongban.simulator import simulate
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import wait_for

Y, S, T, B = "310110", "320505", "331000", "341600"
SCAN = b"%PDF-1.4\n% a scan\n%%EOF\n"
HASH = hashlib.sha256(SCAN).hexdigest()
ITEM = {"code": "YRD-SB-0016", "name_zh": "企业职工基本养老保险关系转移接续",
        "name_en": "Transfer of employee basic pension insurance", "area": "social_security",
        "modes": ["fully_online", "joint_handling", "accepted_here_handled_there"],
        "ownership_rule": "insured_place", "committed_days": 10}


async def _publish(system: System, http: httpx.AsyncClient) -> None:
    regional = await system.headers(REGIONAL)
    assert (await http.post(system.url("catalogue") + "/v1/items", json=ITEM, headers=regional)).status_code == 201
    assert (await http.post(system.url("catalogue") + f"/v1/items/{ITEM['code']}/publish",
                            headers=regional)).status_code == 200


def _body(mode: str = "accepted_here_handled_there", places: list[str] | None = None,
          **extra: Any) -> dict[str, Any]:
    return {"item_code": ITEM["code"], "mode": mode, "applicant_id": "11010519491231002X",
            "ownership": {"insured_place": places or [B]},
            "materials": [{"name": "身份证", "form": "electronic", "sha256": HASH}], **extra}


async def _move(system: System, http: httpx.AsyncClient, case_id: str, locality: str, action: str,
                expect: int = 200, **extra: Any) -> dict[str, Any]:
    response = await http.post(system.url("routing") + f"/v1/cases/{case_id}/transitions",
                               json={"action": action, **extra}, headers=await system.headers(locality))
    assert response.status_code == expect, f"{action} by {locality}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


async def test_posted_receipt_follows_the_post_and_a_returned_result_is_an_exception(
        start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing", "delivery")
    await activate(system, [S, B])
    routing, delivery = system.url("routing"), system.url("delivery")
    async with httpx.AsyncClient(timeout=15) as http:
        await _publish(system, http)
        created = await http.post(routing + "/v1/cases", json=_body(), headers=await system.headers(S))
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        for action in ("accept", "forward"):
            await _move(system, http, case_id, S, action)

        async def waybill(flow: str) -> dict[str, Any] | None:
            found = (await http.get(delivery + "/v1/waybills", params={"case_id": case_id},
                                    headers=await system.headers(S))).json()
            return next((w for w in found if w["flow"] == flow), None)

        await wait_for(lambda: _truthy(waybill("materials")), timeout=30)
        materials = await waybill("materials")
        assert materials is not None and materials["status"] == "created"

        async def case_knows_post() -> bool:
            case = (await http.get(routing + f"/v1/cases/{case_id}", headers=await system.headers(B))).json()
            return materials["number"] in case["waybill_numbers"]

        await wait_for(case_knows_post, timeout=30)
        # Defect 2: the post is still `created`; the owner cannot receive it without saying how it came.
        early = await _move(system, http, case_id, B, "receive", 409, material_hashes=[HASH.upper()])
        assert early["type"].endswith("materials-not-delivered") and materials["number"] in early["detail"]
        received = await _move(system, http, case_id, B, "receive", material_hashes=[HASH.upper()],
                               handover_reason="由苏州窗口专人送达亳州")  # one hash rule: upper case is the same hash
        assert received["status"] == "received"
        for action in ("start_review", "approve", "issue_result"):
            await _move(system, http, case_id, B, action)

        await wait_for(lambda: _truthy(waybill("result")), timeout=30)
        result = await waybill("result")
        assert result is not None
        carrier = await carrier_of(system, B)
        async with carrier.http:
            report = await simulate(carrier, [result["number"]], scenario="returned", speed=500_000, seed=3)
        assert report.statuses == {result["number"]: "returned"}, report.summary()

        async def exception_shown() -> bool:
            case = (await http.get(routing + f"/v1/cases/{case_id}", headers=await system.headers(S))).json()
            return case["delivery_exception"] is not None

        await wait_for(exception_shown, timeout=30)
        # Defect 1: a returned result cannot be marked delivered, nor the case closed.
        refused = await _move(system, http, case_id, B, "deliver_result", 409)
        assert refused["type"].endswith("delivery-exception") and result["number"] in refused["detail"]
        assert (await _move(system, http, case_id, S, "close", 409))["type"].endswith("illegal-transition")
        handed = await _move(system, http, case_id, B, "deliver_result",
                             handover_reason="申请人到苏州窗口当面领取")
        assert handed["status"] == "result_delivered" and handed["delivery_exception"] is None
        assert (await _move(system, http, case_id, S, "close"))["status"] == "closed"
        steps = (await http.get(routing + f"/v1/cases/{case_id}", headers=await system.headers(S))).json()["timeline"]
        assert [s["detail"].get("handover_reason") for s in steps if s["action"] in ("receive", "deliver_result")] \
            == ["由苏州窗口专人送达亳州", "申请人到苏州窗口当面领取"]

    for locality in (S, B):  # both localities are told of the exception
        records = await system.read_locality_topic(locality, until=lambda rs: any(
            t.endswith("delivery_exception.v1") for t, _ in case_events(rs, case_id)))
        told = [d for t, d in case_events(records, case_id) if t.endswith("delivery_exception.v1")]
        assert told[0]["waybill_number"] == result["number"] and told[0]["waybill_status"] == "returned"


async def _truthy(value: Any) -> bool:
    return bool(await value)


async def test_identifiers_joint_parts_materials_and_queries(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B, T, Y])
    routing = system.url("routing")
    async with httpx.AsyncClient(timeout=15) as http:
        await _publish(system, http)
        yangpu = await system.headers(Y)

        async def submit(body: dict[str, Any], expect: int) -> dict[str, Any]:
            response = await http.post(routing + "/v1/cases", json=body, headers=yangpu)
            assert response.status_code == expect, response.text
            answer: dict[str, Any] = response.json()
            return answer

        # Defect 3: 30 February, a future birth, area code 999999; a credit code's division code.
        for bad, why in (("110105199002300019", "not a date"), ("110105203001010010", "in the future"),
                         ("999999199001010011", "not a GB/T 2260")):
            first17 = bad[:17]
            refused = await submit(_body(applicant_id=first17 + resident_id_check(first17)), 422)
            assert why in refused["detail"], refused
        uscc = "91999999MA2TXXXX0"
        assert "division code 999999" in (await submit(_body(applicant_id=uscc + uscc_check(uscc)), 422))["detail"]

        # Defect 4: Yangpu accepts a joint case whose places are in Bozhou and in Yangpu: both own a part.
        joint = await submit(_body("joint_handling", [B, Y]), 201)
        assert joint["owners"] == [B, Y]
        single = await submit(_body("joint_handling", [B]), 422)
        assert single["type"].endswith("joint-needs-parts") and "at least two" in single["detail"]

        # Defect 5: an electronic material without its hash, invisible characters, whitespace-only names.
        for material in ({"name": "身份证", "form": "electronic"}, {"name": "身份\u200b证", "form": "paper"},
                         {"name": "abc\u202e", "form": "paper"}, {"name": "   ", "form": "paper"}):
            await submit(_body(materials=[material]), 422)
        upper = await submit(_body(materials=[{"name": "Cafe\u0301", "form": "electronic", "sha256": HASH.upper()}]),
                             201)
        assert [(m["name"], m["form"], m["sha256"]) for m in upper["materials"]] == [("Caf\u00e9", "electronic", HASH)]

        # Defect 6: unknown action 422; a 409 says whose turn it is; a bogus status 422; cursors keep filters.
        case_id = upper["id"]
        assert (await _move(system, http, case_id, Y, "teleport", 422))["errors"]
        turn = await _move(system, http, case_id, Y, "receive", 409)
        assert turn["turn"] == {Y: ["accept"]} and "310110 may accept" in turn["detail"]
        assert (await http.get(routing + "/v1/cases", params={"status": "bogus"}, headers=yangpu)).status_code == 422
        page = (await http.get(routing + "/v1/cases", params={"limit": 1, "status": "submitted"},
                               headers=yangpu)).json()
        assert page["next_cursor"]
        same = await http.get(routing + "/v1/cases", params={"limit": 1, "status": "submitted",
                                                             "cursor": page["next_cursor"]}, headers=yangpu)
        assert same.status_code == 200
        other = await http.get(routing + "/v1/cases", params={"limit": 1, "item": ITEM["code"],
                                                              "cursor": page["next_cursor"]}, headers=yangpu)
        assert other.status_code == 422 and "other filters" in other.text

        # Defect 7: a 20 MB body is refused with 413 before it is parsed (the shared request limits, which
        # already held for routing: this is its test on a process).
        host, port = urlsplit(routing).hostname, urlsplit(routing).port
        reader, writer = await asyncio.open_connection(host, port)
        token = yangpu["Authorization"]
        writer.write(f"POST /v1/cases HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n".encode())
        await writer.drain()  # not one byte of the 20 MB is sent: the answer comes on the declared length
        answer = await asyncio.wait_for(reader.read(65536), timeout=30)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 413") and b"application/problem+json" in answer, answer[:300]
