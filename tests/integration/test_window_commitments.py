"""Commitments in place of proofs (告知承诺制, 国办发〔2020〕42号), end to end on processes (issue 17): a case
accepted with a commitment in place of a required material, the owner's verification task and its due
date, a commitment found false after the result was issued revoking it on both localities' topics, and
the same applicant refused the commitment option for the item afterwards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.routing.deadlines import library_schedules
from services.routing.domain import WorkingCalendar
from services.routing.service import today
from shared.envelope import Record
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import ALL_MODES, AREAS, sign
from tongban.testbed.kafka_io import read_topic

Y, S, T, B = "310110", "320505", "331000", "341600"
REVOKED = "cn.tongban.routing.case.result_revoked.v1"
VERIFIED = "cn.tongban.routing.commitment.verified.v1"
RECORDED = "cn.tongban.routing.commitment.recorded.v1"
PROMISE = "本人承诺：本人无犯罪记录。如有不实，愿承担相应法律责任，并接受撤销办理结果的处理。"
ITEM = {"code": "YRD-SB-0171", "name_zh": "灵活就业人员参保登记", "name_en": "Flexible employment registration",
        "area": "social_security", "modes": ["fully_online"], "ownership_rule": "insured_place", "committed_days": 5}
STANDARD = {"competent_department": "亳州市人力资源和社会保障局", "legal_days": 20, "committed_days": 5,
            "materials": [{"name": "身份证", "form": "original"},
                          {"name": "无犯罪记录证明", "form": "original",
                           "commitment": {"text": PROMISE, "verify_days": 5, "excludes_prior_false": True}}]}
ID_CARD = {"name": "身份证", "form": "original"}
APPLICANT, OTHER = "11010519491231002X", "110105199001010010"
CLERK = {"id": "BZ-0101", "name": "张三"}


async def _agree(system: System) -> None:
    """Suzhou holds every right for Bozhou."""
    now = datetime.now(UTC)
    body = {"title": "专窗授权", "text": "相互授权。", "parties": [S, B], "items": [], "areas": AREAS,
            "valid_from": (now - timedelta(days=1)).isoformat(), "valid_until": (now + timedelta(days=99)).isoformat(),
            "permissions": [{"acceptor": S, "owner": B, "modes": ALL_MODES}]}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(system.url("authorization") + "/v1/agreements", json=body,
                                   headers=await system.headers(S))
    assert response.status_code == 201, response.text
    for party in (S, B):
        assert (await sign(system, response.json(), party)).status_code == 201


async def test_a_false_commitment_revokes_the_result_and_excludes_the_applicant(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await _agree(system)
    routing, catalogue = system.url("routing"), system.url("catalogue")
    async with httpx.AsyncClient(timeout=15) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        put = await http.put(catalogue + f"/v1/items/{ITEM['code']}/standards/{B}", json=STANDARD, headers=regional)
        assert put.status_code == 200, put.text
        shown = {m["name"]: m for m in put.json()["materials"]}
        assert shown["无犯罪记录证明"]["commitment"]["verify_days"] == 5 and shown["身份证"]["commitment"] is None
        assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
        suzhou, bozhou = await system.headers(S), await system.headers(B)

        async def submit(applicant: str, commitments: list[dict[str, Any]], expect: int = 201) -> dict[str, Any]:
            body = {"item_code": ITEM["code"], "mode": "fully_online", "applicant_id": applicant,
                    "ownership": {"insured_place": [B]}, "materials": [ID_CARD], "commitments": commitments}
            created = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
            assert created.status_code == expect, created.text
            answer: dict[str, Any] = created.json()
            return answer

        async def move(case_id: str, locality: str, action: str, expect: int = 200) -> dict[str, Any]:
            response = await http.post(routing + f"/v1/cases/{case_id}/transitions",
                                       json={"action": action, "clerk": CLERK}, headers=await system.headers(locality))
            assert response.status_code == expect, f"{action}: {response.text}"
            answer: dict[str, Any] = response.json()
            return answer

        # Without the commitment the case is refused with the list of what is missing, as before.
        bare = await submit(APPLICANT, [])
        refused = await move(bare["id"], S, "accept", 422)
        assert refused["type"].endswith("materials-missing") and [m["name"] for m in refused["missing"]] == [
            "无犯罪记录证明"]

        # A commitment for a material the standard does not let a commitment replace: 422.
        not_allowed = await submit(APPLICANT, [{"text": PROMISE, "replaces": ["身份证"]}], 422)
        assert not_allowed["type"].endswith("commitment-not-allowed") and not_allowed["material"] == "身份证"
        assert "does not let a commitment replace" in not_allowed["detail"]
        unknown = await submit(APPLICANT, [{"text": PROMISE, "replaces": ["户口簿"]}], 422)
        assert unknown["type"].endswith("commitment-not-allowed") and "户口簿" in unknown["detail"]
        other_text = await submit(APPLICANT, [{"text": "我保证。", "replaces": ["无犯罪记录证明"]}], 422)
        assert other_text["type"].endswith("commitment-text-differs") and other_text["published"] == PROMISE

        # With it, the case is accepted; the owner's verification task is listed with its due date.
        case = await submit(APPLICANT, [{"text": PROMISE, "replaces": ["无犯罪记录证明"]}])
        await move(case["id"], S, "accept")
        due, _provisional = WorkingCalendar(library_schedules()).add_working_days(today(), 5)
        tasks = (await http.get(routing + "/v1/commitments", params={"status": "pending"}, headers=bozhou)).json()
        [task] = [t for t in tasks["commitments"] if t["case_id"] == case["id"]]
        assert (task["text"], task["replaces"], task["due_on"], task["overdue"]) == (
            PROMISE, ["无犯罪记录证明"], due.isoformat(), False)
        assert (await http.get(routing + "/v1/commitments", headers=suzhou)).json()["commitments"] == [], \
            "the window's locality verifies nothing"
        listed = (await http.get(routing + f"/v1/cases/{case['id']}/commitments", headers=suzhou)).json()
        assert [c["id"] for c in listed] == [task["id"]]

        # The result is issued; then the owner finds the commitment false: the result is revoked.
        await move(case["id"], S, "forward")
        for action in ("receive", "start_review", "approve", "issue_result"):
            await move(case["id"], B, action)
        assert (await http.post(routing + f"/v1/commitments/{task['id']}/verification", headers=suzhou,
                                json={"found": False, "reason": "x"})).status_code in (403, 404)
        no_reason = await http.post(routing + f"/v1/commitments/{task['id']}/verification", headers=bozhou,
                                    json={"found": False})
        assert no_reason.status_code == 422 and no_reason.json()["type"].endswith("reason-required"), no_reason.text
        reason = "公安机关核查：申请人有犯罪记录 (身份证号 11010519491231002X)"
        verified = await http.post(routing + f"/v1/commitments/{task['id']}/verification", headers=bozhou,
                                   json={"found": False, "reason": reason, "clerk": CLERK})
        assert verified.status_code == 200, verified.text
        assert verified.json()["case_status"] == "result_revoked"
        assert verified.json()["commitment"]["status"] == "found_false"
        assert "11010519491231002X" not in verified.text, "the number is masked"
        again = await http.post(routing + f"/v1/commitments/{task['id']}/verification", headers=bozhou,
                                json={"found": True})
        assert again.status_code == 409 and again.json()["type"].endswith("commitment-verified")

        detail = (await http.get(routing + f"/v1/cases/{case['id']}", headers=suzhou)).json()
        assert detail["status"] == "result_revoked" and "公安机关核查" in detail["reason"]
        last = detail["timeline"][-1]
        assert (last["action"], last["from"], last["to"], last["by"]) == (
            "revoke_result", "result_issued", "result_revoked", B)
        assert last["detail"]["commitment_id"] == task["id"] and "告知承诺不实" in last["detail"]["reason"]
        assert (await move(case["id"], B, "deliver_result", 409))["type"].endswith("illegal-transition")

        # CaseResultRevoked on both localities' topics, with the reason.
        for locality in (S, B):
            def revoked(records: list[Record], case_id: str = case["id"]) -> bool:
                return any(r.header("ce_type") == REVOKED and json.loads(r.value)["case_id"] == case_id
                           for r in records) and any(r.header("ce_type") == VERIFIED for r in records)

            records = await read_topic(system.kafka.bootstrap, system.topic(locality), until=revoked, timeout=60)
            [event] = [json.loads(r.value) for r in records if r.header("ce_type") == REVOKED]
            assert (event["item_code"], event["owning_locality"], event["accepting_locality"]) == (ITEM["code"], B, S)
            assert "公安机关核查" in event["reason"] and "11010519491231002X" not in event["reason"]
            assert [json.loads(r.value)["due_on"] for r in records if r.header("ce_type") == RECORDED] == [
                due.isoformat()]
            [found] = [json.loads(r.value) for r in records if r.header("ce_type") == VERIFIED]
            assert (found["found"], found["case_outcome"], found["on_time"]) == (False, "result_revoked", True)

        # The same applicant's next case for the item is refused the commitment option; the material itself,
        # or another applicant's commitment, is still accepted.
        excluded = await submit(APPLICANT, [{"text": PROMISE, "replaces": ["无犯罪记录证明"]}], 422)
        assert excluded["type"].endswith("commitment-excluded"), excluded
        assert "commitment found false" in excluded["detail"] and "hand in the material itself" in excluded["detail"]
        await submit(OTHER, [{"text": PROMISE, "replaces": ["无犯罪记录证明"]}])

        # A commitment found false before the result: the case ends with the reason; found true closes the task.
        early = await submit(OTHER, [{"text": PROMISE, "replaces": ["无犯罪记录证明"]}])
        await move(early["id"], S, "accept")
        ended = await _verify_case(http, routing, bozhou, early["id"], False, "核查不实")
        assert ended["case_status"] == "terminated"
        assert (await move(early["id"], S, "forward", 409))["type"].endswith("illegal-transition")
        kept = await submit("110105198512310037", [{"text": PROMISE, "replaces": ["无犯罪记录证明"]}])
        await move(kept["id"], S, "accept")
        fine = await _verify_case(http, routing, bozhou, kept["id"], True, "")
        assert fine["case_status"] == "accepted" and fine["commitment"]["status"] == "found_true"


async def _verify_case(http: httpx.AsyncClient, routing: str, headers: dict[str, str], case_id: str, found: bool,
                       reason: str) -> dict[str, Any]:
    [commitment] = (await http.get(routing + f"/v1/cases/{case_id}/commitments", headers=headers)).json()
    response = await http.post(routing + f"/v1/commitments/{commitment['id']}/verification", headers=headers,
                               json={"found": found, "reason": reason})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
