"""The applicant's documents on processes (issue 16, part F): the receipt notice and the one-time notice as
Chinese PDF in the case file; their text read back with pypdf, the QR code decoded with zxing-cpp."""

from __future__ import annotations

import io
from typing import Any

import httpx
import zxingcpp
from pypdf import PdfReader

from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.agreements import activate

S, B = "320505", "341600"
ITEM = {"code": "YRD-SB-0165", "name_zh": "企业职工基本养老保险关系转移接续",
        "name_en": "Transfer of employee basic pension insurance", "area": "social_security",
        "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place", "committed_days": 10}


def read_pdf(data: bytes) -> tuple[str, list[str]]:
    """The text of every page and the QR codes found in its images."""
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    codes = [found.text for page in reader.pages for image in page.images
             for found in zxingcpp.read_barcodes(image.image)]
    return text, codes


async def test_the_receipt_and_one_time_notices_are_pdfs_in_the_case_file(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await activate(system, [S, B])
    routing, catalogue = system.url("routing"), system.url("catalogue")
    async with httpx.AsyncClient(timeout=30) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
        suzhou, bozhou = await system.headers(S), await system.headers(B)
        body = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there", "applicant_id": "11010519491231002X",
                "ownership": {"insured_place": [B]}, "clerk": {"id": "SZ-0427", "name": "王晓明"},
                "materials": [{"name": "身份证", "form": "original"}, {"name": "养老保险参保缴费凭证", "form": "copy",
                                                                       "count": 2}]}
        created = await http.post(routing + "/v1/cases", json=body, headers=suzhou)
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        assert (await http.get(routing + f"/v1/cases/{case_id}/documents", headers=suzhou)).json()["documents"] == []

        async def move(locality: str, action: str, **extra: Any) -> None:
            moved = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": action, **extra},
                                    headers=await system.headers(locality))
            assert moved.status_code == 200, moved.text

        await move(S, "accept", clerk={"id": "SZ-0427", "name": "王晓明"})
        listed = await http.get(routing + f"/v1/cases/{case_id}/documents", headers=suzhou)
        assert listed.status_code == 200, listed.text
        receipt = listed.json()["documents"][0]
        assert receipt["kind"] == "receipt_notice" and receipt["name"].endswith(".pdf")
        pdf = await http.get(routing + receipt["href"], headers=suzhou)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        text, codes = read_pdf(pdf.content)
        assert case_id in text and "企业职工基本养老保险关系转移接续" in text and "收件告知单" in text
        assert "王晓明" in text and "10 个工作日" in text and "养老保险参保缴费凭证" in text
        assert "亳州市" in text and "苏州高新区" in text
        case = (await http.get(routing + f"/v1/cases/{case_id}", headers=suzhou)).json()
        assert case["due_on"] in text
        assert len(codes) == 1 and codes[0].startswith(f"{routing}/v1/status/{case_id}?code="), codes
        assert codes[0].split("code=")[1] in text, "the query code is printed beside its QR code"

        again = (await http.get(routing + f"/v1/cases/{case_id}/documents", headers=bozhou)).json()["documents"]
        assert again == listed.json()["documents"], "made once, kept in the case file, fetched again"
        files = (await http.get(routing + f"/v1/cases/{case_id}/files", headers=bozhou)).json()
        assert any(f["kind"] == "notice" and f["sha256"] == receipt["sha256"] for f in files["files"])

        await move(S, "forward")
        await move(B, "receive", handover_reason="由苏州窗口专人送达")
        await move(B, "start_review")
        await move(B, "request_supplement", notice=[{"material": "养老保险参保缴费凭证", "reason": "缴费记录不连续"}])
        notices = [d for d in (await http.get(routing + f"/v1/cases/{case_id}/documents",
                                              headers=suzhou)).json()["documents"] if d["kind"] == "one_time_notice"]
        assert [n["notice"] for n in notices] == [1]
        text, codes = read_pdf((await http.get(routing + notices[0]["href"], headers=suzhou)).content)
        assert "一次性告知书" in text and "缴费记录不连续" in text and case_id in text
        assert codes and codes[0].startswith(f"{routing}/v1/status/{case_id}?code=")
