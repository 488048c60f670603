"""Routing's flows on real processes, Kafka and PostgreSQL: modes, idempotency, deadlines, queries."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from typing import Any

import httpx

from shared.clock import CHINA
from shared.envelope import Record
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import read_topic

Y, S, T, B = "310110", "320505", "331000", "341600"
SCAN = b"%PDF-1.4\n% the applicant's identity card, scanned at the window\n%%EOF\n"
ITEM = {"code": "YRD-SB-0002", "name_zh": "企业职工基本养老保险关系转移接续",
        "name_en": "Transfer of employee basic pension insurance", "area": "social_security",
        "modes": ["fully_online", "joint_handling", "accepted_here_handled_there"],
        "ownership_rule": "insured_place", "committed_days": 10}


async def _ready_item(system: System, http: httpx.AsyncClient) -> None:
    maintainer = await system.headers(REGIONAL)
    assert (await http.post(system.url("catalogue") + "/v1/items", json=ITEM, headers=maintainer)).status_code == 201
    assert (await http.post(system.url("catalogue") + f"/v1/items/{ITEM['code']}/publish",
                            headers=maintainer)).status_code == 200


async def _move(system: System, http: httpx.AsyncClient, case_id: str, locality: str, action: str,
                **extra: Any) -> dict[str, Any]:
    response = await http.post(system.url("routing") + f"/v1/cases/{case_id}/transitions",
                               json={"action": action, **extra}, headers=await system.headers(locality))
    assert response.status_code == 200, f"{action} by {locality}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


async def test_fully_online_case_idempotency_and_queries(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B, T])
    routing = system.url("routing")
    async with httpx.AsyncClient(timeout=15) as http:
        await _ready_item(system, http)
        body = {"item_code": ITEM["code"], "mode": "fully_online", "applicant_id": "11010519491231002X",
                "ownership": {"insured_place": ["341602"]},
                "materials": [{"name": "身份证", "form": "electronic", "sha256": hashlib.sha256(SCAN).hexdigest()}]}
        suzhou = {**await system.headers(S), "Idempotency-Key": "window-7-0001"}
        first = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
        assert first.status_code == 201, first.text
        again = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
        assert again.status_code == 201 and again.json() == first.json(), "a retry returns the first response"
        other = await http.post(routing + "/v1/cases", json={**body, "mode": "joint_handling"}, headers=suzhou)
        assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
        case_id = first.json()["id"]
        assert first.json()["owners"] == [B] and first.json()["applicant_masked"] == "110105********002X"

        accepted = await _move(system, http, case_id, S, "accept")
        assert accepted["attestation_id"] and accepted["due_on"] and accepted["committed_days"] == 10
        retried = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "forward"},
                                  headers={**await system.headers(S), "Idempotency-Key": "fwd-1"})
        retried_again = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "forward"},
                                        headers={**await system.headers(S), "Idempotency-Key": "fwd-1"})
        assert retried.status_code == retried_again.status_code == 200
        assert retried_again.json()["sequence"] == retried.json()["sequence"]
        illegal = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "close"},
                                  headers=await system.headers(S))
        assert illegal.status_code == 409 and illegal.json()["allowed"] == ["withdraw"]
        clerk_only = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "receive"},
                                     headers=await system.headers(B, scope="window_clerk"))
        assert clerk_only.status_code == 403
        # The owner reviews a fully-online case once its scan is in the case file (docs/case-files.md).
        scan = await http.put(routing + f"/v1/cases/{case_id}/files/{hashlib.sha256(SCAN).hexdigest()}",
                              content=SCAN, headers=await system.headers(S))
        assert scan.status_code == 201, scan.text
        for action in ("receive", "start_review", "approve", "issue_result", "deliver_result"):
            await _move(system, http, case_id, B, action)
        closed = await _move(system, http, case_id, S, "close")
        assert closed["status"] == "closed"

        full = (await http.get(routing + f"/v1/cases/{case_id}", headers=await system.headers(B))).json()
        assert [s["action"] for s in full["timeline"]] == [
            "submit", "accept", "forward", "receive", "start_review", "approve", "issue_result", "deliver_result",
            "close"]
        assert (await http.get(routing + f"/v1/cases/{case_id}", headers=await system.headers(Y))).status_code == 404

        # Queries: Suzhou sees its cases page by page; Yangpu sees none; another locality's view is refused.
        second = await http.post(routing + "/v1/cases", json=body, headers=await system.headers(S))
        assert second.status_code == 201
        page = (await http.get(routing + "/v1/cases", params={"limit": 1}, headers=await system.headers(S))).json()
        assert len(page["cases"]) == 1 and page["next_cursor"]
        rest = (await http.get(routing + "/v1/cases", params={"limit": 5, "cursor": page["next_cursor"]},
                               headers=await system.headers(S))).json()
        assert {c["id"] for c in page["cases"] + rest["cases"]} == {case_id, second.json()["id"]}
        assert (await http.get(routing + "/v1/cases", params={"status": "closed"},
                               headers=await system.headers(B))).json()["cases"][0]["id"] == case_id
        assert (await http.get(routing + "/v1/cases", headers=await system.headers(Y))).json()["cases"] == []
        assert (await http.get(routing + "/v1/cases", params={"locality": B},
                               headers=await system.headers(S))).status_code == 403
        assert (await http.get(routing + "/v1/cases", params={"cursor": "garbage"},
                               headers=await system.headers(S))).status_code == 422

        figures = (await http.get(routing + "/v1/statistics", headers=await system.headers(B))).json()
        entry = figures["items"][0]
        assert entry["item_code"] == ITEM["code"] and entry["by_status"] == {"closed": 1, "submitted": 1}
        assert entry["on_time_rate"] == 1.0 and entry["median_working_days"] == 0
        local = {"item_code": ITEM["code"], "period": "2026-Q3", "cases": 120, "median_working_days": 4.0,
                 "on_time_rate": 0.97}
        assert (await http.put(routing + "/v1/statistics/local", json=local,
                               headers=await system.headers(B))).status_code == 200
        compared = (await http.get(routing + "/v1/statistics", headers=await system.headers(B))).json()
        assert compared["items"][0]["local_only"]["cases"] == 120

    # Every transition is an event on the topics of both localities involved, in order.
    for locality in (S, B):
        records = await read_topic(system.kafka.bootstrap, system.topic(locality), until=lambda rs: sum(
            r.key == case_id.encode() and r.header("ce_type") == "cn.tongban.routing.case.status_changed.v1"
            for r in rs) >= 8)
        moves = [json.loads(r.value) for r in records if r.key == case_id.encode()
                 and r.header("ce_type") == "cn.tongban.routing.case.status_changed.v1"]
        assert [m["to_status"] for m in moves] == [
            "accepted", "forwarded", "received", "under_review", "approved", "result_issued", "result_delivered",
            "closed"]
        assert any(r.header("ce_type") == "cn.tongban.routing.case.deadline_set.v1" and r.key == case_id.encode()
                   for r in records)
        assert not any(b"11010519491231002X" in r.value for r in records), "no identifier in events"


async def test_joint_handling_fans_out_and_one_refusal_rejects(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B, T])
    routing = system.url("routing")
    async with httpx.AsyncClient(timeout=15) as http:
        await _ready_item(system, http)
        body = {"item_code": ITEM["code"], "mode": "joint_handling", "applicant_id": "11010519491231002X",
                "ownership": {"insured_place": ["341602", "331002"]}}

        async def submit() -> dict[str, Any]:
            response = await http.post(routing + "/v1/cases", json=body, headers=await system.headers(S))
            assert response.status_code == 201, response.text
            result: dict[str, Any] = response.json()
            return result

        case = await submit()
        assert case["owners"] == [B, T]
        for action in ("accept", "forward"):
            await _move(system, http, case["id"], S, action)
        for owner in (B, T):
            for action in ("receive", "start_review"):
                await _move(system, http, case["id"], owner, action)
        half = await _move(system, http, case["id"], B, "approve")
        assert half["status"] == "under_review" and half["parts"] == {B: "approved", T: "under_review"}
        done = await _move(system, http, case["id"], T, "approve")
        assert done["status"] == "approved"
        assert (await http.post(routing + f"/v1/cases/{case['id']}/transitions", json={"action": "issue_result"},
                                headers=await system.headers(T))).status_code == 409  # the lead owner issues
        await _move(system, http, case["id"], B, "issue_result")

        refused = await submit()
        for action in ("accept", "forward"):
            await _move(system, http, refused["id"], S, action)
        for owner in (B, T):
            for action in ("receive", "start_review"):
                await _move(system, http, refused["id"], owner, action)
        no_reason = await http.post(routing + f"/v1/cases/{refused['id']}/transitions", json={"action": "reject"},
                                    headers=await system.headers(T))
        assert no_reason.status_code == 422
        rejected = await _move(system, http, refused["id"], T, "reject", reason="缴费记录不连续 / contribution gap")
        assert rejected["status"] == "rejected" and rejected["reason"] == "缴费记录不连续 / contribution gap"
        late = await http.post(routing + f"/v1/cases/{refused['id']}/transitions", json={"action": "approve"},
                               headers=await system.headers(B))
        assert late.status_code == 409

        # The calendar is data: the joint office loads a year's notice through the API; anyone reads it back.
        notice_2027 = {"holidays": ["2027-01-01"], "adjusted_workdays": [], "source": "test notice"}
        assert (await http.put(routing + "/v1/calendar/2027", json=notice_2027,
                               headers=await system.headers(S))).status_code == 403
        assert (await http.put(routing + "/v1/calendar/2027", json=notice_2027,
                               headers=await system.headers(REGIONAL))).status_code == 200
        year = (await http.get(routing + "/v1/calendar/2027", headers=await system.headers(S))).json()
        assert year["holidays"] == ["2027-01-01"] and year["source"] == "test notice"
        bad = await http.put(routing + "/v1/calendar/2027", json={**notice_2027, "holidays": ["2026-05-01"]},
                             headers=await system.headers(REGIONAL))
        assert bad.status_code == 422
        assert (await http.get(routing + "/v1/calendar/2031", headers=await system.headers(S))).status_code == 404

    for locality in (B, T):  # each owner got the case on its own topic

        def forwarded_to(records: list[Record], owner: str = locality) -> bool:
            return any(r.header("ce_type") == "cn.tongban.routing.case.forwarded.v1"
                       and json.loads(r.value)["owning_locality"] == owner for r in records)

        assert await read_topic(system.kafka.bootstrap, system.topic(locality), until=forwarded_to)


async def test_the_owner_s_own_time_limit_and_the_catalogue_over_rest(start_system: SystemFactory) -> None:
    """A first-list item: its standard differs by locality, and routing learns it from the catalogue."""
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B, T, Y])
    routing, catalogue = system.url("routing"), system.url("catalogue")
    async with httpx.AsyncClient(timeout=15) as http:
        published = await http.post(catalogue + "/v1/lists/yrd-first-list.v1/publish",
                                    headers=await system.headers(REGIONAL))
        assert published.status_code == 200, published.text
        items = (await http.get(catalogue + "/v1/items", params={"limit": 200},
                                headers=await system.headers(Y))).json()["items"]
        for item in items:
            detail = (await http.get(catalogue + f"/v1/items/{item['code']}", headers=await system.headers(Y))).json()
            days = detail["committed_days_by_locality"]
            if (len(set(days.values())) > 1 and "fully_online" in item["modes"]
                    and item["ownership_rule"] in ("insured_place", "household_registration_place")):
                break
        else:
            raise AssertionError("the first list has no item whose time limit differs between localities")
        owner = min((loc for loc in days if loc != S), key=lambda loc: days[loc])
        body = {"item_code": item["code"], "mode": "fully_online", "applicant_id": "11010519491231002X",
                "ownership": {item["ownership_rule"]: [owner]}}
        created = await http.post(routing + "/v1/cases", json=body, headers=await system.headers(S))
        assert created.status_code == 201, created.text
        assert created.json()["committed_days"] == days[owner], "the owner's own committed time limit applies"


async def test_a_case_due_today_is_announced_once(start_system: SystemFactory) -> None:
    # The system's clock is pinned to a Thursday morning, the working day before the Dragon Boat
    # Festival (19-21 June 2026): the case is due the day it is accepted, whatever day the suite runs.
    pinned = datetime(2026, 6, 18, 10, 0, tzinfo=CHINA)
    system = await start_system("catalogue", "routing",
                                env={"TONGBAN_CLOCK_OFFSET_SECONDS": str(pinned.timestamp() - time.time())})
    await activate(system, [S, B], now=pinned)
    routing = system.url("routing")
    same_day = {**ITEM, "code": "YRD-SB-0009", "committed_days": 0}
    async with httpx.AsyncClient(timeout=15) as http:
        maintainer = await system.headers(REGIONAL)
        assert (await http.post(system.url("catalogue") + "/v1/items", json=same_day,
                                headers=maintainer)).status_code == 201
        assert (await http.post(system.url("catalogue") + "/v1/items/YRD-SB-0009/publish",
                                headers=maintainer)).status_code == 200
        body = {"item_code": "YRD-SB-0009", "mode": "fully_online", "applicant_id": "11010519491231002X",
                "ownership": {"insured_place": [B]}}
        created = await http.post(routing + "/v1/cases", json=body, headers=await system.headers(S))
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        accepted = await _move(system, http, case_id, S, "accept")
        assert accepted["due_on"] == accepted["accepted_on"] == "2026-06-18"
        for _ in range(2):  # a second scan announces nothing new
            scanned = await http.post(routing + "/v1/deadlines/scan", headers=await system.headers(B))
            assert scanned.status_code == 200
        assert (await http.post(routing + "/v1/deadlines/scan",
                                headers=await system.headers(B, scope="window_clerk"))).status_code == 403
    for locality in (S, B):
        records = await read_topic(system.kafka.bootstrap, system.topic(locality), until=lambda rs: any(
            r.key == case_id.encode() and r.header("ce_type") == "cn.tongban.routing.case.due_soon.v1" for r in rs))
        notices = [json.loads(r.value) for r in records if r.key == case_id.encode()
                   and r.header("ce_type") == "cn.tongban.routing.case.due_soon.v1"]
        assert notices == [{"case_id": case_id, "owner": B, "due_on": accepted["due_on"]}]
