"""The applicant's status query on processes (issue 16, part G): case number and the query code printed
on the receipt, no token, plain words, masked; every wrong pair the same 404; rate-limited."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.integration.conftest import REGIONAL, SystemFactory
from tests.integration.test_window_documents import read_pdf
from tongban.testbed.agreements import activate

S, B = "320505", "341600"
ITEM = {"code": "YRD-SB-0166", "name_zh": "社会保障卡补换", "name_en": "Social security card replacement",
        "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
        "committed_days": 5}


async def test_the_status_query_answers_the_right_pair_only(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B])
    routing, catalogue = system.url("routing"), system.url("catalogue")
    async with httpx.AsyncClient(timeout=30) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
        suzhou = await system.headers(S)
        body = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there", "applicant_id": "11010519491231002X",
                "ownership": {"insured_place": [B]}, "materials": [{"name": "身份证", "form": "original"}],
                "applicant": {"kind": "person", "name": "王小明", "id_number": "11010519491231002X",
                              "phone": "13812345678"}}
        case_id = (await http.post(routing + "/v1/cases", json=body, headers=suzhou)).json()["id"]
        accepted = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "accept"},
                                   headers=suzhou)
        assert accepted.status_code == 200, accepted.text
        receipt = (await http.get(routing + f"/v1/cases/{case_id}/documents", headers=suzhou)).json()["documents"][0]
        _text, codes = read_pdf((await http.get(routing + receipt["href"], headers=suzhou)).content)
        link = codes[0]  # the applicant scans the receipt's QR code
        code = parse_qs(urlsplit(link).query)["code"][0]

        answer = await http.get(link)  # no token
        assert answer.status_code == 200, answer.text
        status = answer.json()
        assert status["case_number"] == case_id and status["status"] == "accepted"
        assert status["words"].startswith("窗口已受理") and status["item"] == f"{ITEM['code']} 社会保障卡补换"
        assert status["applicant"] == "110105********002X" and "王小明" not in answer.text
        assert status["due_on"] == accepted.json()["due_on"]
        assert [s["words"][:4] for s in status["timeline"]] == ["提交申请", "窗口受理"]
        assert (await http.get(routing + f"/v1/status/{case_id}", params={"code": code.lower()})).status_code == 200

        wrong_code = await http.get(routing + f"/v1/status/{case_id}", params={"code": "ABCDEFGHJK"})
        wrong_case = await http.get(routing + "/v1/status/00000000-0000-0000-0000-000000000000", params={"code": code})
        assert wrong_code.status_code == wrong_case.status_code == 404
        strip = {"instance"}
        assert {k: v for k, v in wrong_code.json().items() if k not in strip} == \
            {k: v for k, v in wrong_case.json().items() if k not in strip}, "every wrong pair answers alike"

        # Guessing is counted per address (30 a window by default): then 429 with Retry-After, even for the right code.
        answers = [await http.get(routing + f"/v1/status/{case_id}", params={"code": f"GUESS{i:05d}"})
                   for i in range(30)]
        codes_seen = {a.status_code for a in answers}
        assert codes_seen <= {404, 429} and answers[-1].status_code == 429, codes_seen
        blocked = await http.get(link)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert blocked.headers["content-type"].startswith("application/problem+json")
