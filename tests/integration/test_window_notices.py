"""The one-time notice round trips, on processes (issue 16, part E): the window's own before acceptance,
and an owner's request_supplement answered line by line by the supplement."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.agreements import activate

S, B = "320505", "341600"
ITEM = {"code": "YRD-SB-0164", "name_zh": "失业登记", "name_en": "Unemployment registration",
        "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
        "committed_days": 5}
STANDARD = {"competent_department": "亳州市人力资源和社会保障局", "legal_days": 20, "committed_days": 5,
            "materials": [{"name": "身份证", "form": "original"}, {"name": "失业登记表", "form": "original"}]}


async def test_one_time_notices_round_trip(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B])
    routing, catalogue = system.url("routing"), system.url("catalogue")
    async with httpx.AsyncClient(timeout=15) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        assert (await http.put(catalogue + f"/v1/items/{ITEM['code']}/standards/{B}", json=STANDARD,
                               headers=regional)).status_code == 200
        assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
        suzhou, bozhou = await system.headers(S), await system.headers(B)
        body = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there", "applicant_id": "11010519491231002X",
                "ownership": {"insured_place": [B]}, "materials": [{"name": "身份证", "form": "original"}]}
        created = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]

        async def move(locality: str, action: str, expect: int = 200, **extra: Any) -> dict[str, Any]:
            response = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": action, **extra},
                                       headers=await system.headers(locality))
            assert response.status_code == expect, f"{action}: {response.text}"
            answer: dict[str, Any] = response.json()
            return answer

        # The window finds 失业登记表 missing: one notice, its lines from the owner's standard.
        notice = await http.post(routing + f"/v1/cases/{case_id}/notices", json={}, headers=suzhou)
        assert notice.status_code == 201, notice.text
        assert notice.headers["location"].endswith(f"/v1/cases/{case_id}/notices/1")
        assert [(x["material"], x["reason"][:3]) for x in notice.json()["lines"]] == [("失业登记表", "未提交")]
        assert (await http.post(routing + f"/v1/cases/{case_id}/notices", json={}, headers=suzhou)).status_code == 422
        assert (await move(S, "accept", 422))["type"].endswith("materials-missing")
        wrong = await http.post(routing + f"/v1/cases/{case_id}/notices/1/answers", headers=suzhou,
                                json={"answers": [{"material": "户口簿"}]})
        assert wrong.status_code == 422 and wrong.json()["unanswered"] == ["失业登记表"]
        answered = await http.post(routing + f"/v1/cases/{case_id}/notices/1/answers", headers=suzhou, json={
            "answers": [{"material": "失业登记表", "answer": "申请人补交原件",
                         "added": [{"name": "失业登记表", "form": "original"}]}]})
        assert answered.status_code == 200, answered.text
        assert answered.json()["answers"] == [{"material": "失业登记表", "answer": "申请人补交原件",
                                               "added": ["失业登记表"]}]
        await move(S, "accept")
        await move(S, "forward")
        await move(B, "receive", handover_reason="由苏州窗口专人送达")
        await move(B, "start_review")

        # The owner's request names every missing or defective material with its reason.
        assert (await move(B, "request_supplement", 422, reason="材料不全"))["type"].endswith("one-time-notice")
        requested = await move(B, "request_supplement", notice=[
            {"material": "身份证", "reason": "已过有效期 / expired"},
            {"material": "银行卡复印件", "reason": "未提交 / not handed in"}])
        assert requested["status"] == "supplement_requested"
        assert requested["notices"][1]["lines"][1] == {"material": "银行卡复印件", "reason": "未提交 / not handed in"}
        half = await move(S, "supplement", 422, answers=[{"material": "身份证", "answer": "已换领"}])
        assert half["unanswered"] == ["银行卡复印件"]
        supplemented = await move(S, "supplement", answers=[
            {"material": "身份证", "answer": "已换领新证", "added": [{"name": "身份证（新）", "form": "original"}]},
            {"material": "银行卡复印件", "added": [{"name": "银行卡复印件", "form": "copy"}]}])
        assert supplemented["status"] == "supplemented"
        materials = {m["name"]: m["supplement"] for m in supplemented["materials"]}
        assert materials == {"身份证": 0, "失业登记表": 1, "身份证（新）": 2, "银行卡复印件": 2}, \
            "the materials list shows what each supplement added"
        listed = (await http.get(routing + f"/v1/cases/{case_id}/notices", headers=bozhou)).json()["notices"]
        assert [(n["number"], n["kind"], n["answers"] is not None) for n in listed] == [
            (1, "window", True), (2, "supplement", True)]
