"""Materials against the owner's standard and the check of originals, on processes (issue 16, part D)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import ALL_MODES, AREAS, sign

Y, S, T, B = "310110", "320505", "331000", "341600"
ITEM = {"code": "YRD-SB-0163", "name_zh": "失业登记", "name_en": "Unemployment registration",
        "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
        "committed_days": 5}
STANDARD = {"competent_department": "亳州市人力资源和社会保障局", "legal_days": 20, "committed_days": 5,
            "materials": [{"name": "身份证", "form": "original", "count": 1, "electronic_accepted": False},
                          {"name": "失业登记表", "form": "original_and_copy", "count": 2}]}


async def _agree(system: System) -> None:
    """Suzhou holds every right for Bozhou; Yangpu only 收件受理权 (no 原件核验权)."""
    now = datetime.now(UTC)
    body = {"title": "专窗授权", "text": "相互授权。", "parties": [S, B, Y], "items": [], "areas": AREAS,
            "valid_from": (now - timedelta(days=1)).isoformat(), "valid_until": (now + timedelta(days=99)).isoformat(),
            "permissions": [{"acceptor": S, "owner": B, "modes": ALL_MODES},
                            {"acceptor": Y, "owner": B, "modes": ALL_MODES,
                             "rights": [{"right": "receive_accept"}]}]}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(system.url("authorization") + "/v1/agreements", json=body,
                                   headers=await system.headers(S))
    assert response.status_code == 201, response.text
    for party in (S, B, Y):
        assert (await sign(system, response.json(), party)).status_code == 201


async def test_acceptance_checks_the_standard_and_only_a_right_holder_checks_originals(
        start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await _agree(system)
    routing, catalogue = system.url("routing"), system.url("catalogue")
    async with httpx.AsyncClient(timeout=15) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        put = await http.put(catalogue + f"/v1/items/{ITEM['code']}/standards/{B}", json=STANDARD, headers=regional)
        assert put.status_code == 200, put.text
        assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200

        async def submit(locality: str, materials: list[dict[str, Any]]) -> str:
            body = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there",
                    "applicant_id": "11010519491231002X", "ownership": {"insured_place": [B]},
                    "materials": materials}
            created = await http.post(routing + "/v1/cases", json=body, headers=await system.headers(locality))
            assert created.status_code == 201, created.text
            return str(created.json()["id"])

        async def accept(locality: str, case_id: str) -> httpx.Response:
            return await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "accept"},
                                   headers=await system.headers(locality))

        # A case without a required material is refused with the list.
        short = await submit(S, [{"name": "身份证", "form": "copy"}])
        refused = await accept(S, short)
        assert refused.status_code == 422 and refused.json()["type"].endswith("materials-missing"), refused.text
        missing = {m["name"]: m for m in refused.json()["missing"]}
        assert set(missing) == {"身份证", "失业登记表"} and missing["身份证"]["reason"].startswith("形式不符")
        assert missing["失业登记表"]["owner"] == B and "未提交" in refused.json()["detail"]

        complete = [{"name": "身份证", "form": "original"}, {"name": "失业登记表", "form": "original_and_copy",
                                                             "count": 2}]
        case_id = await submit(S, complete)
        assert (await accept(S, case_id)).status_code == 200
        checked = await http.post(routing + f"/v1/cases/{case_id}/originals", headers=await system.headers(S), json={
            "checks": [{"material": "身份证", "matches": True}, {"material": "失业登记表", "matches": False,
                                                                "note": "复印件与原件签名不一致"}],
            "clerk": {"id": "SZ-0427", "name": "王晓明"}})
        assert checked.status_code == 200, checked.text
        assert [(c["material"], c["matches"], c["by"]["name"]) for c in checked.json()["checks"]] == [
            ("身份证", True, "王晓明"), ("失业登记表", False, "王晓明")]
        shown = (await http.get(routing + f"/v1/cases/{case_id}", headers=await system.headers(B))).json()
        assert shown["originals_checks"][1]["note"] == "复印件与原件签名不一致"
        assert (await http.post(routing + f"/v1/cases/{case_id}/originals", headers=await system.headers(B),
                                json={"checks": [{"material": "身份证", "matches": True}]})).status_code == 403

        # Yangpu's window holds 收件受理权 but not 原件核验权: it accepts, it cannot record the originals.
        yangpu_case = await submit(Y, complete)
        denied = await http.post(routing + f"/v1/cases/{yangpu_case}/originals", headers=await system.headers(Y),
                                 json={"checks": [{"material": "身份证", "matches": True}]})
        assert denied.status_code == 403 and denied.json()["right"] == "check_originals", denied.text
        assert "原件核验权" in denied.json()["detail"]
        assert (await http.get(routing + f"/v1/cases/{yangpu_case}/originals",
                               headers=await system.headers(Y))).json()["checks"] == []
