"""The shared statutory calendar on real processes, Kafka and PostgreSQL (issue 18, 4).

Only the joint office's ``regional_calendar`` role changes a year; each change is a version with who and
when, an audit line and a ``CalendarScheduleChanged`` event to every locality; a schedule can be replaced
(final due dates move too) and withdrawn (the year's deadlines are provisional again).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from services.routing.deadlines import library_schedules
from services.routing.domain import WorkingCalendar
from services.routing.service import today
from shared.envelope import Record
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import read_topic, wait_for
from tongban.testbed.world import query

Y, S, T, B = "310110", "320505", "331000", "341600"
CHANGED = "cn.tongban.routing.calendar.schedule_changed.v1"
DEADLINE_SET = "cn.tongban.routing.case.deadline_set.v1"


def _plan() -> tuple[int, int]:
    """A year the library does not know and committed days that make a case accepted today due in it."""
    day, known = today(), set(library_schedules())
    target = next((y for y in range(day.year, day.year + 3) if y not in known), None)
    if target is None:
        pytest.fail(f"the chinese-calendar library knows every year up to {day.year + 2}: choose another year")
    calendar = WorkingCalendar(library_schedules())
    for days in range(1, 366):
        due, provisional = calendar.add_working_days(day, days)
        if due.year == target and provisional and (due - max(day, date(target, 1, 1))).days >= 14:
            return target, days
    pytest.fail(f"no committed time limit up to 365 days makes a case accepted on {day} due in {target}")


async def _case(system: System, http: httpx.AsyncClient, committed_days: int) -> dict[str, Any]:
    """An item of the joint office, and a case of it accepted at Suzhou for Bozhou."""
    office = await system.headers(REGIONAL)
    item = {"code": "YRD-SB-0977", "name_zh": "跨年事项", "name_en": "An item whose cases cross a year",
            "area": "social_security", "modes": ["fully_online"], "ownership_rule": "insured_place",
            "committed_days": committed_days}
    assert (await http.post(system.url("catalogue") + "/v1/items", json=item, headers=office)).status_code == 201
    assert (await http.post(system.url("catalogue") + f"/v1/items/{item['code']}/publish",
                            headers=office)).status_code == 200
    body = {"item_code": item["code"], "mode": "fully_online", "applicant_id": "11010519491231002X",
            "ownership": {"insured_place": [B]}}
    created: list[httpx.Response] = []

    async def accepted() -> bool:  # routing learns the item from the catalogue's event a moment later
        created.append(await http.post(system.url("routing") + "/v1/cases", json=body,
                                       headers=await system.headers(S)))
        return created[-1].status_code == 201

    await wait_for(accepted, timeout=30, interval=0.3)
    case_id = created[-1].json()["id"]
    moved = await http.post(system.url("routing") + f"/v1/cases/{case_id}/transitions", json={"action": "accept"},
                            headers=await system.headers(S))
    assert moved.status_code == 200, moved.text
    case: dict[str, Any] = moved.json()
    return case


async def test_the_joint_office_versions_replaces_and_withdraws_a_year(start_system: SystemFactory) -> None:
    target, committed_days = _plan()
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B])
    routing = system.url("routing")
    office = system.credentials[REGIONAL]
    async with httpx.AsyncClient(timeout=20) as http:
        case = await _case(system, http, committed_days)
        case_id, first_due = case["id"], date.fromisoformat(case["due_on"])
        assert case["deadline_provisional"] is True and first_due.year == target, case

        async def current() -> dict[str, Any]:
            found: dict[str, Any] = (await http.get(routing + f"/v1/cases/{case_id}",
                                                    headers=await system.headers(S))).json()
            return found

        # No locality's client changes the calendar that every locality's deadlines are counted on.
        holiday = next(first_due - timedelta(days=n) for n in range(1, 10)
                       if (first_due - timedelta(days=n)).weekday() < 5
                       and (first_due - timedelta(days=n)).year == target
                       and first_due - timedelta(days=n) > date.fromisoformat(case["accepted_on"]))
        notice = {"holidays": [holiday.isoformat()], "adjusted_workdays": [], "source": f"{target} notice"}
        for locality in (S, B, Y):
            refused = await http.put(routing + f"/v1/calendar/{target}", json=notice,
                                     headers=await system.headers(locality))
            assert refused.status_code == 403, refused.text
            assert (await http.post(routing + f"/v1/calendar/{target}/withdraw", json={"reason": "x"},
                                    headers=await system.headers(locality))).status_code == 403
        assert (await current())["deadline_provisional"] is True

        # Loaded: the date is final and one working day later (the holiday falls inside the case's span).
        loaded = await http.put(routing + f"/v1/calendar/{target}", json=notice, headers=await system.headers(REGIONAL))
        assert loaded.status_code == 200, loaded.text
        assert {k: loaded.json()[k] for k in ("version", "change", "by_client", "by_locality", "in_force")} == {
            "version": 1, "change": "loaded", "by_client": office["client_id"], "by_locality": office["locality"],
            "in_force": "operators"}
        after_load = await current()
        assert after_load["deadline_provisional"] is False
        second_due = date.fromisoformat(after_load["due_on"])
        assert second_due > first_due

        # Replaced (the notice had a mistaken holiday): a final date moves back, too.
        fixed = {"holidays": [], "adjusted_workdays": [], "source": f"{target} notice, corrected"}
        replaced = await http.put(routing + f"/v1/calendar/{target}", json=fixed,
                                  headers=await system.headers(REGIONAL))
        assert replaced.status_code == 200 and replaced.json()["change"] == "replaced"
        assert replaced.json()["version"] == 2 and replaced.json()["recomputed"] >= 1
        after_replace = await current()
        assert (after_replace["due_on"], after_replace["deadline_provisional"]) == (first_due.isoformat(), False)

        # Withdrawn: the year has no schedule any more; its deadlines are provisional again.
        withdrawn = await http.post(routing + f"/v1/calendar/{target}/withdraw", json={"reason": "notice revoked"},
                                    headers=await system.headers(REGIONAL))
        assert withdrawn.status_code == 200, withdrawn.text
        assert {k: withdrawn.json()[k] for k in ("version", "change", "reason", "in_force", "loaded")} == {
            "version": 3, "change": "withdrawn", "reason": "notice revoked", "in_force": "none", "loaded": False}
        after_withdrawal = await current()
        assert (after_withdrawal["due_on"], after_withdrawal["deadline_provisional"]) == (first_due.isoformat(), True)
        assert (await http.get(routing + f"/v1/calendar/{target}", headers=await system.headers(S))).status_code == 404
        again = await http.post(routing + f"/v1/calendar/{target}/withdraw", json={"reason": "twice"},
                                headers=await system.headers(REGIONAL))
        assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
        never = await http.post(routing + "/v1/calendar/2099/withdraw", json={"reason": "none"},
                                headers=await system.headers(REGIONAL))
        assert never.status_code == 404
        assert (await http.post(routing + f"/v1/calendar/{target}/withdraw", json={},
                                headers=await system.headers(REGIONAL))).status_code == 422

        # Every version says who and when; anyone may read the history.
        history = (await http.get(routing + f"/v1/calendar/{target}/versions",
                                  headers=await system.headers(B))).json()
        versions = history["versions"]
        assert [(v["version"], v["change"], v["by_client"]) for v in versions] == [
            (1, "loaded", office["client_id"]), (2, "replaced", office["client_id"]),
            (3, "withdrawn", office["client_id"])]
        assert versions[0]["holidays"] == [holiday.isoformat()] and versions[2]["holidays"] == []
        assert versions[0]["at"] <= versions[1]["at"] <= versions[2]["at"]

    # Audited: an event to every locality for each change, and a line in routing's log.
    for locality in (Y, S, T, B):
        def three(records: list[Record]) -> bool:
            return len([r for r in records if r.header("ce_type") == CHANGED]) >= 3

        records = await read_topic(system.kafka.bootstrap, system.topic(locality), until=three, timeout=60)
        changes = [json.loads(r.value) for r in records if r.header("ce_type") == CHANGED]
        assert [(c["schedule_version"], c["change"], c["by_client"]) for c in changes] == [
            (1, "loaded", office["client_id"]), (2, "replaced", office["client_id"]),
            (3, "withdrawn", office["client_id"])]
    records = await read_topic(system.kafka.bootstrap, system.topic(B), timeout=60, until=lambda rs: [
        json.loads(r.value)["provisional"] for r in rs if r.header("ce_type") == DEADLINE_SET
        and json.loads(r.value)["case_id"] == case_id] == [True, False, False, True])
    log = system.services["routing"].log_path.read_text(errors="replace")
    assert log.count("calendar schedule changed") == 3 and office["client_id"] in log

    # ... and in the authorization service's hash-chained audit log, once per change.
    async def audited() -> list[Any]:
        return await query(system.database_urls["authorization"],
                           "SELECT subject, outcome, actor, locality FROM audit_log "
                           "WHERE action = 'calendar.schedule_changed' ORDER BY id")

    await wait_for(lambda: _count(audited, 3), timeout=60, interval=0.5)
    assert [tuple(r) for r in await audited()] == [(str(target), change, office["client_id"], office["locality"])
                                                   for change in ("loaded", "replaced", "withdrawn")]


async def _count(rows: Any, n: int) -> bool:
    return len(await rows()) >= n
