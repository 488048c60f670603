"""National codes and case exports on real processes (issue 17): the item's basic-catalogue code and each
locality's implementation code, edited and diffed in the catalogue, reach routing by the item's event, and
an export of a closed, a refused and a supplemented case matches its golden file, as CSV and as JSON.

Generated ids (case ids, attestation ids) and the moments of the steps are normalised before comparing
(``<case-1>``, ``<attestation-1>``, ``<time>``); the moments are checked apart: RFC 3339 in China time,
in the order of the steps, within the test's run. ``TONGBAN_UPDATE_GOLDEN=1`` writes the golden files anew.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.agreements import activate

S, B, Y = "320505", "341600", "310110"
GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "exports"
NATIONAL = "000105001000"
"""Illustrative codes of the test (the first list's items carry none: docs/exports.md)."""
IMPLEMENTATION = {B: "11341600MB19373620000105001000", S: "11320505MB15941520000105001000"}
ITEM = {"code": "YRD-SB-0164", "name_zh": "失业登记", "name_en": "Unemployment registration",
        "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
        "committed_days": 5}
STANDARD = {"competent_department": "亳州市人力资源和社会保障局", "legal_days": 20, "committed_days": 5,
            "materials": [{"name": "身份证", "form": "original"}]}
MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00")


def _normalise(text: str, ids: dict[str, str]) -> str:
    for raw, label in ids.items():
        text = text.replace(raw, label)
    return MOMENT.sub("<time>", text)


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TONGBAN_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    expected = path.read_bytes().decode("utf-8")  # byte for byte: the CSV's lines end in CRLF
    assert actual == expected, f"the export differs from {path} (TONGBAN_UPDATE_GOLDEN=1 writes it anew)"


def _moments_in_order(row: dict[str, Any], started: datetime, ended: datetime) -> None:
    order = [row["SQSJ"], row["SLSJ"], *(m for s in row["BZ"] for m in (s["BZGZSJ"], s["BZSLSJ"])), row["BJSJ"],
             row["LQSJ"]]
    moments = [datetime.fromisoformat(m) for m in order if m]
    assert all(MOMENT.fullmatch(m) for m in order if m), order
    assert moments == sorted(moments), f"the moments follow the steps: {order}"
    assert all(started <= m <= ended for m in moments)


async def test_national_codes_and_the_export_of_three_cases(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B])
    routing, catalogue = system.url("routing"), system.url("catalogue")
    started = datetime.now(UTC) - timedelta(seconds=1)
    async with httpx.AsyncClient(timeout=15) as http:
        regional = await system.headers(REGIONAL)
        code = ITEM["code"]
        bad = await http.post(catalogue + "/v1/items", json={**ITEM, "national_code": "00-0105"}, headers=regional)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.national_code"
        assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        patched = await http.patch(catalogue + f"/v1/items/{code}", json={"national_code": NATIONAL}, headers=regional)
        assert patched.status_code == 200 and patched.json()["national_code"] == NATIONAL
        by_locality = await http.patch(catalogue + f"/v1/items/{code}", json={"national_code": "000105001001"},
                                       headers=await system.headers(B, scope="maintainer"))
        assert by_locality.status_code == 403, "only the joint office edits the basic-catalogue code"
        for locality in (B, S):  # each locality's maintainer sets its own implementation code
            put = await http.put(catalogue + f"/v1/items/{code}/standards/{locality}",
                                 json={**STANDARD, "implementation_code": IMPLEMENTATION[locality]},
                                 headers=await system.headers(locality, scope="maintainer"))
            assert put.status_code == 200, put.text
        other = await http.put(catalogue + f"/v1/items/{code}/standards/{B}",
                               json={**STANDARD, "implementation_code": IMPLEMENTATION[S]},
                               headers=await system.headers(S, scope="maintainer"))
        assert other.status_code == 403, "a locality does not set another's implementation code"
        diff = (await http.get(catalogue + f"/v1/items/{code}/standards/diff", headers=regional)).json()
        assert {d["field"]: d["values"] for d in diff["differences"]}["implementation_code"] == IMPLEMENTATION
        assert (await http.post(catalogue + f"/v1/items/{code}/publish", headers=regional)).status_code == 200

        suzhou = await system.headers(S)
        body = {"item_code": code, "mode": "accepted_here_handled_there", "applicant_id": "11010519491231002X",
                "ownership": {"insured_place": [B]}, "materials": [{"name": "身份证", "form": "original"}]}
        ids: dict[str, str] = {}
        cases: list[str] = []

        async def new_case() -> str:
            created = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
            assert created.status_code == 201, created.text
            case_id: str = created.json()["id"]
            ids[case_id] = f"<case-{len(cases) + 1}>"
            cases.append(case_id)
            return case_id

        async def move(case_id: str, locality: str, action: str, **extra: Any) -> dict[str, Any]:
            response = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": action, **extra},
                                       headers=await system.headers(locality))
            assert response.status_code == 200, f"{action}: {response.text}"
            answer: dict[str, Any] = response.json()
            if answer.get("attestation_id"):
                ids.setdefault(answer["attestation_id"], f"<attestation-{cases.index(case_id) + 1}>")
            return answer

        async def to_review(case_id: str) -> None:
            await move(case_id, S, "accept")
            await move(case_id, S, "forward")
            await move(case_id, B, "receive", handover_reason="由苏州窗口专人送达")
            await move(case_id, B, "start_review")

        closed = await new_case()
        await to_review(closed)
        for action in ("approve", "issue_result"):
            await move(closed, B, action)
        await move(closed, B, "deliver_result", handover_reason="申请人到苏州窗口当面领取")
        assert (await move(closed, S, "close"))["status"] == "closed"

        refused = await new_case()
        await to_review(refused)
        assert (await move(refused, B, "reject", reason="申请人不符合失业登记条件"))["status"] == "rejected"

        supplemented = await new_case()
        await to_review(supplemented)
        await move(supplemented, B, "request_supplement", notice=[
            {"material": "身份证", "reason": "已过有效期"}, {"material": "劳动合同解除证明", "reason": "未提交"}])
        await move(supplemented, S, "supplement", answers=[
            {"material": "身份证", "answer": "已换领新证", "added": [{"name": "身份证（新）", "form": "original"}]},
            {"material": "劳动合同解除证明", "added": [{"name": "劳动合同解除证明", "form": "copy"}]}])
        await move(supplemented, B, "start_review")
        assert (await move(supplemented, B, "approve"))["status"] == "approved"

        # JSON, paged: two pages of one limit-2 walk are the three rows, oldest first.
        first = await http.get(routing + "/v1/exports/cases", params={"format": "json", "limit": 2}, headers=suzhou)
        assert first.status_code == 200, first.text
        assert first.json()["next_cursor"]
        rest = await http.get(routing + "/v1/exports/cases", headers=suzhou, params={
            "format": "json", "limit": 2, "cursor": first.json()["next_cursor"]})
        assert rest.status_code == 200 and rest.json()["next_cursor"] is None
        rows = first.json()["cases"] + rest.json()["cases"]
        assert [r["SBLSH"] for r in rows] == [closed, refused, supplemented]
        ended = datetime.now(UTC) + timedelta(seconds=1)
        for row in rows:
            _moments_in_order(row, started, ended)
        owner_view = await http.get(routing + "/v1/exports/cases", headers=await system.headers(B))
        assert owner_view.json()["cases"] == rows, "both parties export the same rows"
        _golden("cases.json", _normalise(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", ids))

        # CSV, streamed, with the exchange's names or the Chinese labels as its header line.
        exported = await http.get(routing + "/v1/exports/cases", params={"format": "csv"}, headers=suzhou)
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        _golden("cases.csv", _normalise(exported.text, ids))
        chinese = await http.get(routing + "/v1/exports/cases", params={"format": "csv", "header": "zh"},
                                 headers=suzhou)
        assert chinese.text.split("\r\n")[0].startswith("申办流水号,事项编码,基本目录编码")
        assert chinese.text.split("\r\n")[1:] == exported.text.split("\r\n")[1:]

        # Filters: a status, a period; a locality that is no party sees none; bad filters are problems.
        only_closed = await http.get(routing + "/v1/exports/cases", params={"status": "closed"}, headers=suzhou)
        assert [r["SBLSH"] for r in only_closed.json()["cases"]] == [closed]
        later = await http.get(routing + "/v1/exports/cases", headers=suzhou,
                               params={"since": ended.isoformat(), "format": "csv"})
        assert later.status_code == 200 and later.text.count("\r\n") == 1, "the header line alone"
        before = await http.get(routing + "/v1/exports/cases", headers=suzhou,
                                params={"until": started.isoformat()})
        assert before.json()["cases"] == []
        yangpu = await http.get(routing + "/v1/exports/cases", headers=await system.headers(Y))
        assert yangpu.status_code == 200 and yangpu.json()["cases"] == []
        for params, field in (({"since": ended.isoformat(), "until": started.isoformat()}, "query.until"),
                              ({"format": "xml"}, "query.format"), ({"status": "lost"}, "query.status"),
                              ({"since": "2026-12-01"}, "query.since"),
                              ({"format": "csv", "cursor": first.json()["next_cursor"]}, "query.cursor"),
                              ({"cursor": "bm90LWEtY3Vyc29y"}, "query.cursor")):
            wrong = await http.get(routing + "/v1/exports/cases", params=params, headers=suzhou)
            assert wrong.status_code == 422, (params, wrong.text)
            assert wrong.headers["content-type"].startswith("application/problem+json")
            assert wrong.json()["errors"][0]["field"] == field, (params, wrong.json())
