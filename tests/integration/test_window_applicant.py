"""The applicant and the agent end to end on processes (issue 16, part C): sealed at rest, answered masked,
unmasked for the parties' clerks and officers only, each unmasking audited, never in events."""

from __future__ import annotations

import hashlib

import httpx

from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.agreements import activate
from tongban.testbed.world import query, read_to_end

Y, S, B = "310110", "320505", "341600"
ITEM = {"code": "YRD-SB-0162", "name_zh": "社会保障卡补换", "name_en": "Social security card replacement",
        "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
        "committed_days": 5}
LETTER = b"%PDF-1.4\n% authorisation letter\n%%EOF\n"
APPLICANT = {"kind": "person", "name": "王小明", "id_kind": "resident_id", "id_number": "11010519491231002X",
             "phone": "13812345678", "address": "江苏省苏州市虎丘区狮山路88号"}
AGENT = {"name": "赵六一", "id_kind": "passport", "id_number": "E98765432", "phone": "13900001111",
         "authorisation_letter": "授权委托书"}


async def test_the_applicant_is_sealed_masked_and_unmasked_with_an_audit_line(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B, Y])
    routing = system.url("routing")
    async with httpx.AsyncClient(timeout=15) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(system.url("catalogue") + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        assert (await http.post(system.url("catalogue") + f"/v1/items/{ITEM['code']}/publish",
                                headers=regional)).status_code == 200
        suzhou = await system.headers(S)
        letter = {"name": "授权委托书", "form": "electronic", "sha256": hashlib.sha256(LETTER).hexdigest()}
        body = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there",
                "applicant_id": APPLICANT["id_number"], "ownership": {"insured_place": [B]},
                "applicant": APPLICANT, "agent": AGENT, "materials": [letter]}
        no_letter = await http.post(routing + "/v1/cases", json={**body, "materials": []}, headers=suzhou)
        assert no_letter.status_code == 422 and "authorisation letter" in no_letter.json()["detail"]
        other = await http.post(routing + "/v1/cases", json={**body, "applicant_id": "91341600MA2TXXXX0X"},
                                headers=suzhou)
        assert other.status_code == 422, other.text
        created = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
        assert created.status_code == 201, created.text
        case = created.json()
        assert case["applicant"]["name"] == "王**" and case["applicant"]["phone"] == "138****5678"
        assert case["agent"] == {"name": "赵**", "id_kind": "passport", "id_number": "E9*****32",
                                 "phone": "139****1111", "authorisation_letter": "授权委托书"}
        listed = (await http.get(routing + "/v1/cases", headers=suzhou)).json()["cases"][0]
        assert listed["applicant"]["address"] == "江苏省苏州市****"

        bozhou = await system.headers(B)
        opened = await http.get(routing + f"/v1/cases/{case['id']}/parties", headers=bozhou)
        assert opened.status_code == 200, opened.text
        assert opened.json()["applicant"]["name"] == "王小明" and opened.json()["agent"]["id_number"] == "E98765432"
        supervisor = await http.get(routing + f"/v1/cases/{case['id']}/parties",
                                    headers=await system.headers(B, scope="supervisor"))
        assert supervisor.status_code == 403
        assert (await http.get(routing + f"/v1/cases/{case['id']}/parties",
                               headers=await system.headers(Y))).status_code == 404
        reads = (await http.get(routing + f"/v1/cases/{case['id']}/parties/reads", headers=suzhou)).json()
        assert [(r["locality"], r["client_id"]) for r in reads] == [(B, system.credentials[B]["client_id"])]
        assert "applicant.phone" in reads[0]["fields"] and "agent.id_number" in reads[0]["fields"]

    rows = await query(system.database_urls["routing"], "SELECT parties_sealed FROM cases WHERE id = :c",
                       c=case["id"])
    assert str(rows[0][0]).startswith("A256GCM:t1.") and "王小明" not in str(rows[0][0])
    records = await read_to_end(system.kafka.bootstrap, [system.topic(S), system.topic(B)])
    assert records and not any(secret.encode() in r.value for r in records
                               for secret in ("王小明", "13812345678", "狮山路", "E98765432", "赵六一"))
