"""The four delegated rights, end to end on processes (issue 16, part B): each action asks for its right."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import ALL_MODES, AREAS, sign

Y, S, T, B = "310110", "320505", "331000", "341600"
SCAN = b"%PDF-1.4\n% a scan\n%%EOF\n"
HASH = hashlib.sha256(SCAN).hexdigest()
ITEM = {"code": "YRD-SB-0161", "name_zh": "社会保障卡补换", "name_en": "Social security card replacement",
        "area": "social_security", "modes": ["fully_online", "accepted_here_handled_there"],
        "ownership_rule": "insured_place", "committed_days": 5}
CLERK = {"id": "SZ-0427", "name": "王晓明"}


async def _agree(system: System, rights: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    """An active agreement between Suzhou, Bozhou and Taizhou whose permissions name these rights."""
    now = datetime.now(UTC)
    body = {"title": "专窗授权", "text": "双方相互授权窗口人员。", "parties": [S, B, T], "items": [],
            "areas": AREAS, "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_until": (now + timedelta(days=365)).isoformat(),
            "permissions": [{"acceptor": a, "owner": o, "modes": ALL_MODES, "rights": r}
                            for (a, o), r in rights.items()]}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(system.url("authorization") + "/v1/agreements", json=body,
                                   headers=await system.headers(S))
    assert response.status_code == 201, response.text
    agreement = response.json()
    assert agreement["permissions"][0]["rights"] == rights[(S, B)]
    for party in (S, B, T):
        assert (await sign(system, agreement, party)).status_code == 201


async def test_each_action_checks_the_right_it_needs(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await _agree(system, {(S, B): [{"right": "receive_accept", "items": [], "areas": ["social_security"]}],
                          (S, T): [{"right": "one_time_notice", "items": [], "areas": []}]})
    routing = system.url("routing")
    async with httpx.AsyncClient(timeout=15) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(system.url("catalogue") + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        assert (await http.post(system.url("catalogue") + f"/v1/items/{ITEM['code']}/publish",
                                headers=regional)).status_code == 200
        suzhou, bozhou = await system.headers(S), await system.headers(B)
        body = {"item_code": ITEM["code"], "mode": "fully_online", "applicant_id": "11010519491231002X",
                "ownership": {"insured_place": [B]}, "clerk": CLERK,
                "materials": [{"name": "身份证", "form": "electronic", "sha256": HASH}]}
        created = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        # 收件受理权 only for Taizhou's items is not held: Suzhou cannot accept a case Taizhou owns.
        taizhou = await http.post(routing + "/v1/cases", json={**body, "ownership": {"insured_place": ["331002"]}},
                                  headers=suzhou)
        assert taizhou.status_code == 403, taizhou.text
        assert taizhou.json()["right"] == "receive_accept" and "does not delegate receive_accept" in \
            taizhou.json()["detail"]

        async def move(locality: str, action: str, expect: int = 200, **extra: Any) -> dict[str, Any]:
            response = await http.post(routing + f"/v1/cases/{case_id}/transitions",
                                       json={"action": action, **extra}, headers=await system.headers(locality))
            assert response.status_code == expect, f"{action}: {response.text}"
            answer: dict[str, Any] = response.json()
            return answer

        accepted = await move(S, "accept", clerk=CLERK)
        await move(S, "forward", clerk={"id": "SZ-0002", "name": "李四"})
        assert (await http.put(routing + f"/v1/cases/{case_id}/files/{HASH}", content=SCAN,
                               headers=suzhou)).status_code == 201
        for action in ("receive", "start_review", "approve", "issue_result"):
            await move(B, action, clerk={"id": "BZ-0101", "name": "张三"})
        # 审批结果送达权 is not delegated: Suzhou's window cannot hand the decision over.
        refused = await move(S, "hand_over_result", 403, clerk=CLERK)
        assert refused["right"] == "deliver_result" and "审批结果送达权" in refused["detail"]
        await move(B, "deliver_result")

        case = (await http.get(routing + f"/v1/cases/{case_id}", headers=bozhou)).json()
        clerks = {s["action"]: s["detail"]["clerk"] for s in case["timeline"]}
        assert clerks["submit"]["id"] == "SZ-0427" and clerks["accept"]["name"] == "王晓明"
        assert clerks["forward"]["name"] == "李四" and clerks["approve"]["id"] == "BZ-0101"
        assert clerks["deliver_result"] == {"client_id": system.credentials[B]["client_id"]}
        attestation = (await http.get(system.url("authorization") + f"/v1/attestations/{accepted['attestation_id']}",
                                      headers=bozhou)).json()
        payload = json.loads(base64.urlsafe_b64decode(attestation["jws"].split(".")[1] + "=="))
        assert (payload["clerk_id"], payload["clerk_name"]) == ("SZ-0427", "王晓明"), "signed over the person"
        verified = (await http.post(system.url("authorization") + "/v1/attestations/verify",
                                    json={"jws": attestation["jws"]}, headers=bozhou)).json()
        assert verified["valid"]
