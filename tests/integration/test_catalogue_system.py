"""The catalogue as its own process on PostgreSQL and Kafka: the first list, search, diffs, import and
export, and a published list reaching every locality's topic."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook

from services.catalogue.spreadsheets import XLSX_MEDIA_TYPE
from shared.envelope import Record, parse_record
from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.kafka_io import read_topic

YANGPU, SUZHOU, TAIZHOU, BOZHOU = "310110", "320505", "331000", "341600"
LIST = "yrd-first-list.v1"
LIST_PUBLISHED = "cn.tongban.catalogue.list.published.v1"
ITEM_PUBLISHED = "cn.tongban.catalogue.item.published.v1"


def _sheets(workbook: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(workbook), read_only=True)
    try:
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
    finally:
        book.close()


async def test_first_list_search_diff_and_transfer_on_postgres(start_system: SystemFactory) -> None:
    system = await start_system("catalogue")
    async with httpx.AsyncClient(base_url=system.url("catalogue"), headers=await system.headers(REGIONAL),
                                 timeout=30) as http:
        # The first list loaded at start (as a draft, to be published by the joint office).
        assert [(x["id"], x["status"], x["item_count"]) for x in (await http.get("/v1/lists")).json()] == [
            (LIST, "draft", 72)]

        medical = (await http.get("/v1/items", params={"q": "医保", "limit": 100})).json()
        assert len(medical["items"]) == 16 and {i["area"] for i in medical["items"]} == {"medical_insurance"}
        licences = (await http.get("/v1/items", params={"q": "business licence"})).json()["items"]
        assert "Replacement of a lost business licence" in [i["name_en"] for i in licences]
        assert all("licence" in i["name_en"] for i in licences)
        page = (await http.get("/v1/items", params={"locality": BOZHOU, "mode": "joint_handling", "limit": 3})).json()
        rest = (await http.get("/v1/items", params={"locality": BOZHOU, "mode": "joint_handling", "limit": 3,
                                                    "cursor": page["next_cursor"]})).json()
        joint = [i["code"] for i in page["items"] + rest["items"]]
        assert len(joint) == len(set(joint)) >= 6 and joint == sorted(joint)
        bad = await http.get("/v1/items", params={"locality": "320200"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.locality"

        diff = (await http.get("/v1/items/YRD-YB-0104/standards/diff")).json()
        by_field = {d["field"]: d["values"] for d in diff["differences"]}
        assert by_field["committed_days"] == {YANGPU: 0, SUZHOU: 0, TAIZHOU: 0, BOZHOU: 1}
        assert by_field["materials[异地居住证明].form"] == {YANGPU: None, SUZHOU: None, TAIZHOU: None, BOZHOU: "copy"}
        item = await http.get("/v1/items/YRD-YB-0104")
        assert item.json()["committed_days_by_locality"][BOZHOU] == 1
        assert (await http.get("/v1/items/YRD-YB-0104", headers={"If-None-Match": item.headers["etag"]})
                ).status_code == 304

        # An XLSX export imported back changes nothing.
        workbook = (await http.get("/v1/export")).content
        sheets = _sheets(workbook)
        assert len(sheets["items"]) == 73 and len(sheets["standards"]) == 1 + 72 * 4
        report = await http.post("/v1/import", content=workbook, headers={"Content-Type": XLSX_MEDIA_TYPE})
        assert report.status_code == 200, report.text
        assert (report.json()["items_changed"], report.json()["items_unchanged"]) == (0, 72)
        assert _sheets((await http.get("/v1/export")).content) == sheets

        # An import with bad rows changes nothing and names every one of them.
        csv = ("item_code,locality,seq,name,form,count,electronic_accepted\r\n"
               "YRD-SB-0101,310110,1,居民身份证,original,1,yes\r\n"
               "YRD-SB-0101,310110,2,户口簿,photocopy,1,no\r\n"
               "YRD-SB-0101,310110,3,照片,copy,zero,no\r\n"
               "YRD-ZZ-0001,310110,1,身份证,original,1,yes\r\n")
        rejected = await http.post("/v1/import", params={"format": "csv", "sheet": "materials"},
                                   content=csv.encode("utf-8"))
        assert rejected.status_code == 422
        assert [(e["row"], e["column"]) for e in rejected.json()["errors"]] == [
            (3, "form"), (4, "count"), (5, "item_code")]
        assert _sheets((await http.get("/v1/export")).content) == sheets


def _of_type(records: list[Record], ce_type: str) -> list[Record]:
    return [r for r in records if r.header("ce_type") == ce_type]


async def test_a_published_list_reaches_every_locality_topic(start_system: SystemFactory) -> None:
    system = await start_system("catalogue")
    async with httpx.AsyncClient(base_url=system.url("catalogue"), headers=await system.headers(REGIONAL),
                                 timeout=60) as http:
        assert (await http.post(f"/v1/lists/{LIST}/publish", headers=await system.headers(YANGPU))).status_code == 403
        published = await http.post(f"/v1/lists/{LIST}/publish")
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
    for locality in (YANGPU, SUZHOU, TAIZHOU, BOZHOU):
        records = await read_topic(
            system.kafka.bootstrap, system.topic(locality), timeout=60,
            until=lambda rs: bool(_of_type(rs, LIST_PUBLISHED)) and len(_of_type(rs, ITEM_PUBLISHED)) >= 72,
        )
        [announcement] = _of_type(records, LIST_PUBLISHED)
        envelope, _event = parse_record(announcement)
        assert announcement.key == b"yrd-first-list" and envelope.data["list_id"] == LIST
        assert len(envelope.data["item_codes"]) == 72 and set(envelope.data["item_revisions"].values()) == {1}
        items = {r.key: parse_record(r)[0].data for r in _of_type(records, ITEM_PUBLISHED)}
        assert len(items) == 72
        card = items[b"YRD-SB-0101"]
        assert card["ownership_rule"] == "insured_place" and card["committed_days_by_locality"][BOZHOU] == 15


async def test_a_locality_writes_only_its_own_standards_and_windows(start_system: SystemFactory) -> None:
    """Issue 18, 1: Suzhou's maintainer rewrote Yangpu's standards and windows; the catalogue itself is regional."""
    system = await start_system("catalogue")
    suzhou, yangpu, office = (await system.headers(SUZHOU), await system.headers(YANGPU),
                              await system.headers(REGIONAL))
    async with httpx.AsyncClient(base_url=system.url("catalogue"), timeout=30) as http:
        async def standard(code: str, locality: str) -> dict[str, Any]:
            found = (await http.get(f"/v1/items/{code}/standards", params={"locality": locality},
                                    headers=suzhou)).json()["standards"][0]
            return {k: v for k, v in found.items() if k != "locality"}

        async def window(window_id: str) -> dict[str, Any]:
            found = (await http.get(f"/v1/windows/{window_id}", headers=suzhou)).json()
            return {k: v for k, v in found.items() if k not in ("id", "locality")}

        yangpu_standard = await standard("YRD-DA-0101", YANGPU)
        yangpu_window = await window("W-310110-01")
        forged = {**yangpu_standard, "committed_days": 0, "note": "rewritten by Suzhou"}
        denied = await http.put(f"/v1/items/YRD-DA-0101/standards/{YANGPU}", json=forged, headers=suzhou)
        assert denied.status_code == 403, denied.text
        assert denied.headers["content-type"].startswith("application/problem+json")
        assert (await http.delete(f"/v1/items/YRD-DA-0101/standards/{YANGPU}", headers=suzhou)).status_code == 403
        moved = await http.put("/v1/windows/W-310110-01", json={**yangpu_window, "phone": "0512-00000000"},
                               headers=suzhou)
        assert moved.status_code == 403, moved.text
        assert (await http.put("/v1/windows/W-310110-77", json=yangpu_window, headers=suzhou)).status_code == 403
        assert await standard("YRD-DA-0101", YANGPU) == yangpu_standard and await window("W-310110-01") == yangpu_window

        # Each locality's maintainer keeps its own standards and windows; the joint office writes any.
        own = {**await standard("YRD-DA-0101", SUZHOU), "note": "Suzhou's own note"}
        assert (await http.put(f"/v1/items/YRD-DA-0101/standards/{SUZHOU}", json=own,
                               headers=suzhou)).status_code == 200
        suzhou_window = await window("W-320505-01")
        assert (await http.put("/v1/windows/W-320505-01", json={**suzhou_window, "hours": "周一至周五 9:00-17:00"},
                               headers=suzhou)).status_code == 200
        assert (await http.put("/v1/windows/W-310110-01", json=yangpu_window, headers=yangpu)).status_code == 200
        assert (await http.put(f"/v1/items/YRD-DA-0101/standards/{YANGPU}", json=yangpu_standard,
                               headers=office)).status_code == 200

        # Items, procedures, areas, lists, publishing and imports are the joint office's, not any locality's.
        item = {"code": "YRD-SB-0999", "name_zh": "测试事项", "name_en": "Test item", "area": "social_security",
                "modes": ["fully_online"], "ownership_rule": "insured_place", "committed_days": 3}
        for headers in (suzhou, yangpu):
            assert (await http.post("/v1/items", json=item, headers=headers)).status_code == 403
            assert (await http.patch("/v1/items/YRD-DA-0101", json={"committed_days": 1},
                                     headers=headers)).status_code == 403
            assert (await http.post(f"/v1/lists/{LIST}/publish", headers=headers)).status_code == 403
            assert (await http.post("/v1/lists", json={}, headers=headers)).status_code == 403
            assert (await http.put("/v1/areas/social_security", json={}, headers=headers)).status_code == 403
            assert (await http.post("/v1/import", params={"format": "csv", "sheet": "items", "dry_run": "true"},
                                    content=b"code\n", headers=headers)).status_code == 403
            assert (await http.get("/v1/export", params={"format": "csv", "sheet": "items"},
                                   headers=headers)).status_code == 200, "a maintainer still exports"
        assert (await http.post("/v1/items", json=item, headers=office)).status_code == 201
        assert (await http.post(f"/v1/lists/{LIST}/publish", headers=office)).status_code == 200
