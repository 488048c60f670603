"""The applicant's evaluation (好差评, issue 17) on real processes, Kafka and PostgreSQL: given through the
status query's case number and query code, once per case and channel; a poor one opens a rectification
that becomes overdue on the right working day on the statutory calendar (the system's clock is moved by
restarting the processes with another ``TONGBAN_CLOCK_OFFSET_SECONDS``); an appeal decided by a regional
supervisor whom only ``tongban clients register`` makes; the dashboard's panel, folded from the events."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from shared.clock import CHINA
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tests.integration.test_dashboard_webhooks import dashboard_session, row_of
from tests.integration.test_window_documents import read_pdf
from tongban.testbed.agreements import activate
from tongban.testbed.infra import REPO
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.patience import deadline

S, B, T = "320505", "341600", "331000"
SUPERVISOR = "regional-supervisor"
ITEM = {"code": "YRD-SB-0171", "name_zh": "社会保障卡挂失", "name_en": "Reporting a social security card lost",
        "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
        "committed_days": 5}
# Wednesday 23 September 2026: Mid-Autumn (25 September) and National Day (1-7 October) are holidays and
# Saturday 10 October is a working day, so 15 working days end on Wednesday 21 October; on weekends alone
# they would end on 14 October.
GIVEN = datetime(2026, 9, 23, 10, 0, tzinfo=CHINA)
DUE = datetime(2026, 10, 21, 10, 0, tzinfo=CHINA)
DAY_AFTER = datetime(2026, 10, 22, 10, 0, tzinfo=CHINA)
OVERDUE = "cn.tongban.routing.evaluation.rectification_overdue.v1"


def _offset(at: datetime) -> str:
    return str(at.timestamp() - time.time())


async def _move_clock(system: System, at: datetime) -> None:
    """Restart the token issuer, routing and the dashboard on a clock that reads ``at`` (their databases stay)."""
    for name in ("authorization", "routing", "dashboard"):
        process = system.services[name]
        process.stop()
        process.env["TONGBAN_CLOCK_OFFSET_SECONDS"] = _offset(at)
        process.env["TONGBAN_DEADLINE_CHECK_SECONDS"] = "1"  # the periodic scan finds the overdue one itself
        await asyncio.to_thread(process.start)
    system._tokens.clear()


def _register_regional_supervisor(system: System) -> dict[str, Any]:
    """The joint office's supervisor, registered as the operators do: ``tongban clients register``."""
    done = subprocess.run(
        [sys.executable, "-m", "tongban.cli", "clients", "register", "--locality", "310110",
         "--name", "长三角区域合作办公室 supervision", "--role", "regional_supervisor"],
        cwd=REPO, env={**os.environ, **system.services["authorization"].env}, capture_output=True, text=True,
        check=True)
    registered: dict[str, Any] = json.loads(done.stdout[done.stdout.index("{"):])
    assert registered["roles"] == ["regional_supervisor"]
    return registered


async def _routing_knows_the_item(system: System, http: httpx.AsyncClient) -> None:
    """Wait until routing handled the item's publication (a submission racing it can fail: see the report)."""
    give_up = deadline(30)
    while time.monotonic() < give_up:
        metrics = (await http.get(system.url("routing") + "/metrics")).text
        if 'tongban_events_handled_total{type="cn.tongban.catalogue.item.published.v1"}' in metrics:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("routing never handled the item's publication")


async def _case(system: System, http: httpx.AsyncClient) -> tuple[str, str]:
    """A case accepted at Suzhou's window for Bozhou; its number and the query code on its receipt."""
    routing, suzhou = system.url("routing"), await system.headers(S)
    body = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there", "applicant_id": "11010519491231002X",
            "ownership": {"insured_place": [B]}, "materials": [{"name": "身份证", "form": "original"}],
            "applicant": {"kind": "person", "name": "王小明", "id_number": "11010519491231002X",
                          "phone": "13812345678"}}
    created = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    accepted = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "accept"},
                               headers=suzhou)
    assert accepted.status_code == 200, accepted.text
    receipt = (await http.get(routing + f"/v1/cases/{case_id}/documents", headers=suzhou)).json()["documents"][0]
    _text, codes = read_pdf((await http.get(routing + receipt["href"], headers=suzhou)).content)
    return case_id, parse_qs(urlsplit(codes[0]).query)["code"][0]


async def _events(system: System, locality: str, case_id: str, until: str) -> list[tuple[str, dict[str, Any]]]:
    records = await system.read_locality_topic(locality, until=lambda rs: any(
        r.key == case_id.encode() and r.header("ce_type") == until for r in rs))
    return [(str(r.header("ce_type")), json.loads(r.value)) for r in records
            if r.key == case_id.encode() and str(r.header("ce_type")).startswith("cn.tongban.routing.evaluation.")]


async def test_a_poor_evaluation_is_rectified_and_overdue_on_the_right_working_day(
        start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing", "dashboard",
                                env={"TONGBAN_CLOCK_OFFSET_SECONDS": _offset(GIVEN)})
    await activate(system, [S, B], now=GIVEN)
    system.credentials[SUPERVISOR] = _register_regional_supervisor(system)
    routing, catalogue = system.url("routing"), system.url("catalogue")
    async with httpx.AsyncClient(timeout=30) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
        await _routing_knows_the_item(system, http)
        case_id, code = await _case(system, http)
        evaluate = routing + f"/v1/status/{case_id}/evaluations"
        poor = {"channel": "window", "level": "very_dissatisfied", "reasons": ["waiting", "attitude"],
                "comment": "等了两个小时，请回电 13812345678"}

        # A wrong query code is the status query's uniform 404, and nothing is recorded.
        wrong = await http.post(evaluate, params={"code": "ABCDEFGHJK"}, json=poor)
        status_wrong = await http.get(routing + f"/v1/status/{case_id}", params={"code": "ABCDEFGHJK"})
        assert wrong.status_code == status_wrong.status_code == 404
        assert {k: v for k, v in wrong.json().items() if k != "instance"} == \
            {k: v for k, v in status_wrong.json().items() if k != "instance"}
        refused = await http.post(evaluate, params={"code": code}, json={**poor, "reasons": [], "comment": ""})
        assert refused.status_code == 422 and refused.json()["type"].endswith("/reasons-required"), refused.text

        given = await http.post(evaluate, params={"code": code}, json=poor)  # no token: the applicant
        assert given.status_code == 201, given.text
        receipt = given.json()
        assert receipt["words"] == "非常不满意" and receipt["rectification_due_on"] == "2026-10-21"
        assert given.headers["location"] == f"/v1/evaluations/{receipt['id']}"
        again = await http.post(evaluate, params={"code": code.lower()}, json={**poor, "level": "satisfied"})
        assert again.status_code == 409 and again.json()["type"].endswith("/evaluation-exists"), again.text
        online = await http.post(evaluate, params={"code": code},
                                 json={"channel": "online", "level": "satisfied"})
        assert online.status_code == 201 and online.json()["rectification_due_on"] is None, online.text

        evaluation = routing + f"/v1/evaluations/{receipt['id']}"
        seen = (await http.get(evaluation, headers=await system.headers(S))).json()
        assert seen["responsible_locality"] == S and seen["comment"] == "等了两个小时，请回电 138****5678"
        assert seen["rectification"]["status"] == "open" and seen["rectification"]["due_on"] == "2026-10-21"
        assert (await http.get(evaluation, headers=await system.headers(B))).status_code == 200  # the owner reads
        assert (await http.get(evaluation, headers=await system.headers(T))).status_code == 404  # a stranger
        not_ours = await http.post(evaluation + "/call-backs", json={"reached": True, "note": "x"},
                                   headers=await system.headers(B))
        assert not_ours.status_code == 403 and not_ours.json()["type"].endswith("/not-responsible")
        early = await http.post(evaluation + "/outcome", json={"outcome": "改进叫号"}, headers=await system.headers(S))
        assert early.status_code == 409 and early.json()["type"].endswith("/call-back-missing")
        called = await http.post(evaluation + "/call-backs", json={"reached": True, "note": "已电话回访，致歉"},
                                 headers=await system.headers(S))
        assert called.status_code == 200 and len(called.json()["rectification"]["call_backs"]) == 1, called.text

        # A second case, whose poor online evaluation Bozhou (the owner) appeals and the joint office upholds.
        other_id, other_code = await _case(system, http)
        appealed_one = await http.post(routing + f"/v1/status/{other_id}/evaluations", params={"code": other_code},
                                       json={"channel": "online", "level": "dissatisfied",
                                             "reasons": ["slow_handling"], "comment": "太慢"})
        assert appealed_one.status_code == 201, appealed_one.text
        other = routing + f"/v1/evaluations/{appealed_one.json()['id']}"
        lodged = await http.post(other + "/appeal", json={"reason": "办结用时2个工作日，评价针对的是其他事项"},
                                 headers=await system.headers(B))
        assert lodged.status_code == 200 and lodged.json()["rectification"]["appeal"]["decision"] is None
        decision = {"decision": "upheld", "reason": "评价与本事项无关"}
        by_locality = await http.post(other + "/appeal/decision", json=decision, headers=await system.headers(B))
        assert by_locality.status_code == 403, "a locality does not decide its own appeal"
        decided = await http.post(other + "/appeal/decision", json=decision, headers=await system.headers(SUPERVISOR))
        assert decided.status_code == 200, decided.text
        assert decided.json()["annulled"] and decided.json()["rectification"]["status"] == "annulled"
        twice = await http.post(other + "/appeal/decision", json=decision, headers=await system.headers(SUPERVISOR))
        assert twice.status_code == 409 and twice.json()["type"].endswith("/appeal-decided")
        bozhou = (await http.get(routing + "/v1/statistics/evaluations", headers=await system.headers(B))).json()
        assert bozhou["items"][0]["annulled"] == 1 and bozhou["items"][0]["levels"]["satisfied"] == 1
        assert bozhou["items"][0]["levels"]["dissatisfied"] == 0, "an upheld appeal leaves the figures"

    # The due day: not overdue yet.
    await _move_clock(system, DUE)
    async with httpx.AsyncClient(timeout=30) as http:
        scan = await http.post(routing + "/v1/rectifications/scan", headers=await system.headers(S))
        assert scan.status_code == 200 and scan.json() == {"overdue": 0}
        due_day = (await http.get(evaluation, headers=await system.headers(S))).json()["rectification"]
        assert due_day["overdue"] is False

    # The working day after: overdue, announced once on the topics of both localities.
    await _move_clock(system, DAY_AFTER)
    for locality in (S, B):
        events = await _events(system, locality, case_id, OVERDUE)
        assert [t for t, _ in events].count(OVERDUE) == 1
        assert dict(events)[OVERDUE] == {"evaluation_id": receipt["id"], "case_id": case_id,
                                         "item_code": ITEM["code"], "locality": S, "due_on": "2026-10-21"}
        assert all("138" not in json.dumps(data) and "王小明" not in json.dumps(data) for _, data in events)
    async with httpx.AsyncClient(timeout=30) as http:
        scan = await http.post(routing + "/v1/rectifications/scan", headers=await system.headers(S))
        assert scan.json() == {"overdue": 0}, "announced once"
        late = (await http.get(evaluation, headers=await system.headers(S))).json()["rectification"]
        assert late["overdue"] is True
        listed = (await http.get(routing + "/v1/evaluations", params={"rectification": "overdue"},
                                 headers=await system.headers(S))).json()
        assert [e["id"] for e in listed["evaluations"]] == [receipt["id"]] and listed["next_cursor"] is None
        pages = [await http.get(routing + "/v1/evaluations", params={"limit": "1"},
                                headers=await system.headers(B))]  # Bozhou's: the online one and the annulled one
        pages.append(await http.get(routing + "/v1/evaluations", params={"limit": "1",
                                    "cursor": pages[0].json()["next_cursor"]}, headers=await system.headers(B)))
        assert [e["id"] for p in pages for e in p.json()["evaluations"]] == [
            online.json()["id"], appealed_one.json()["id"]] and pages[1].json()["next_cursor"] is None
        annulled = (await http.get(routing + "/v1/evaluations", params={"rectification": "annulled"},
                                   headers=await system.headers(SUPERVISOR))).json()["evaluations"]
        assert [e["responsible_locality"] for e in annulled] == [B], "the regional supervisor lists every locality's"
        closed = await http.post(evaluation + "/outcome", json={"outcome": "增设叫号提醒，窗口人员培训"},
                                 headers=await system.headers(S))
        assert closed.status_code == 200, closed.text
        assert closed.json()["rectification"]["on_time"] is False
        assert closed.json()["rectification"]["closed_on"] == "2026-10-22"
        suzhou = (await http.get(routing + "/v1/statistics/evaluations", headers=await system.headers(S))).json()
        assert suzhou["items"] == [{
            "item_code": ITEM["code"], "evaluations": 1, "annulled": 0,
            "levels": {"very_satisfied": 0, "satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0,
                       "very_dissatisfied": 1},
            "shares": {"very_satisfied": 0.0, "satisfied": 0.0, "basically_satisfied": 0.0, "dissatisfied": 0.0,
                       "very_dissatisfied": 1.0},
            "rectifications": {"open": 0, "overdue": 0, "closed_on_time": 0, "closed_late": 1, "annulled": 0,
                               "on_time_rate": 0.0}}]
        others = await http.get(routing + "/v1/statistics/evaluations", params={"locality": B},
                                headers=await system.headers(S))
        assert others.status_code == 403
        regional = await http.get(routing + "/v1/statistics/evaluations", params={"locality": S},
                                  headers=await system.headers(SUPERVISOR))
        assert regional.status_code == 200 and regional.json()["items"] == suzhou["items"]
    events = await _events(system, S, case_id, "cn.tongban.routing.evaluation.rectification_closed.v1")
    assert [t.rsplit(".", 2)[-2] for t, _ in events] == [
        "given", "rectification_opened", "given", "rectification_overdue", "rectification_closed"]

    # The dashboard folded the same events: Suzhou's operator sees Suzhou's row, the joint office all four.
    suzhou_view, region_view = await dashboard_session(system, S), await dashboard_session(system, REGIONAL,
                                                                                            regional=True)
    panels: dict[str, Any] = {}

    async def folded() -> bool:
        panels["suzhou"] = (await suzhou_view.get("/api/panels/evaluations")).json()
        panels["region"] = (await region_view.get("/api/panels/evaluations")).json()
        return bool(panels["suzhou"]["localities"][0]["rectifications"]["closed_late"] == 1
                    and row_of(panels["region"], B)["rectifications"]["annulled"] == 1)

    try:
        await wait_for(folded, timeout=30)
        assert [r["locality"] for r in panels["suzhou"]["localities"]] == [S]
        assert panels["suzhou"]["localities"][0] == {
            "locality": S, "evaluations": 1,
            "levels": {"very_satisfied": 0, "satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0,
                       "very_dissatisfied": 1},
            "shares": {"very_satisfied": 0.0, "satisfied": 0.0, "basically_satisfied": 0.0, "dissatisfied": 0.0,
                       "very_dissatisfied": 1.0},
            "rectifications": {"open": 0, "overdue": 0, "closed_on_time": 0, "closed_late": 1, "annulled": 0},
            "on_time_rate": 0.0}
        bozhou_row = row_of(panels["region"], B)
        assert bozhou_row["evaluations"] == 1 and bozhou_row["shares"]["satisfied"] == 1.0, bozhou_row
        assert len(panels["region"]["localities"]) == 4 and row_of(panels["region"], T)["evaluations"] == 0
    finally:
        await suzhou_view.aclose()
        await region_view.aclose()
