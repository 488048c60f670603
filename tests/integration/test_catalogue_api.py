"""The catalogue's API on SQLite, in process: the catalogue and the authorization service (for real
tokens) on one in-process bus, driven over ASGI."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.authorization.app import local_jwks
from services.authorization.service import bootstrap_clients, register_regional_office
from services.catalogue.spreadsheets import XLSX_MEDIA_TYPE, read_xlsx
from shared.auth import JwksCache
from shared.bus import MemoryBus
from shared.envelope import Record, parse_record
from shared.service import create_app
from shared.settings import Settings
from tongban.registry import definition
from tongban.testbed.kafka_io import wait_for

YANGPU, SUZHOU, TAIZHOU, BOZHOU = "310110", "320505", "331000", "341600"
LOCALITIES = (YANGPU, SUZHOU, TAIZHOU, BOZHOU)
MEDICAL = [f"YRD-YB-01{n:02d}" for n in range(1, 17)]
LIST = "yrd-first-list.v1"
REGIONAL = "regional"
"""The joint office's client (regional_catalogue among its roles) in ``Catalogue.credentials``."""


@dataclass
class Catalogue:
    """A running catalogue (and authorization service) with tokens and an observer of every topic."""

    tmp: Path
    bus: MemoryBus
    auth: FastAPI
    app: FastAPI
    stack: AsyncExitStack
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)

    async def token(self, locality: str = YANGPU, scope: str | None = None) -> str:
        cred = self.credentials[locality]
        form = {"grant_type": "client_credentials", "client_id": cred["client_id"],
                "client_secret": cred["client_secret"]}
        if scope:
            form["scope"] = scope
        async with httpx.AsyncClient(transport=httpx.ASGITransport(self.auth), base_url="http://auth") as http:
            response = await http.post("/oauth/token", data=form)
        response.raise_for_status()
        return str(response.json()["access_token"])

    async def client(self, locality: str = YANGPU, scope: str | None = None) -> httpx.AsyncClient:
        token = await self.token(locality, scope)
        return httpx.AsyncClient(transport=httpx.ASGITransport(self.app), base_url="http://catalogue",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def events(self, ce_type: str) -> list[tuple[str, dict[str, Any]]]:
        """(topic, data) of every observed event of a type."""
        found = []
        for record in self.records:
            envelope, _event = parse_record(record)
            if envelope.type == ce_type:
                found.append((record.topic, envelope.data))
        return found


def _settings(tmp: Path) -> Settings:
    return Settings(data_dir=tmp / "data", outbox_poll_seconds=0.2)


async def _start_catalogue(tmp: Path, bus: MemoryBus, auth: FastAPI, stack: AsyncExitStack) -> FastAPI:
    app = create_app(definition("catalogue"), _settings(tmp), bus=bus,
                     database_url=f"sqlite+aiosqlite:///{tmp}/catalogue.db")
    await stack.enter_async_context(app.router.lifespan_context(app))
    ctx = app.state.ctx
    ctx.jwks = ctx.verifier.jwks = JwksCache(local_jwks(auth.state.ctx))  # the JWKS, read in process
    await wait_for(lambda: ctx.topics_ready, timeout=10)
    return app


async def start(tmp: Path) -> Catalogue:
    bus, stack = MemoryBus(), AsyncExitStack()
    auth = create_app(definition("authorization"), _settings(tmp), bus=bus,
                      database_url=f"sqlite+aiosqlite:///{tmp}/authorization.db")
    await stack.enter_async_context(auth.router.lifespan_context(auth))
    app = await _start_catalogue(tmp, bus, auth, stack)
    system = Catalogue(tmp, bus, auth, app, stack)
    async with auth.state.ctx.uow() as uow:
        system.credentials = {c["locality"]: c for c in await bootstrap_clients(uow)}
        system.credentials[REGIONAL] = await register_regional_office(uow)
        await uow.commit()

    async def observe(record: Record) -> None:
        system.records.append(record)

    await bus.subscribe("test-observer", app.state.ctx.localities.topics, observe)
    return system


@pytest.fixture(scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Catalogue]:
    """One catalogue for the tests that only read."""
    system = await start(tmp_path_factory.mktemp("catalogue"))
    yield system
    await system.stack.aclose()


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[Catalogue]:
    """A catalogue of the test's own."""
    system = await start(tmp_path)
    yield system
    await system.stack.aclose()


def _fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [e["field"] for e in response.json().get("errors", [])]


# ---------------------------------------------------------------------------- reading


async def test_first_list_loads_as_a_draft_once(fresh: Catalogue) -> None:
    async with await fresh.client() as http:
        lists = (await http.get("/v1/lists")).json()
        assert [(lst["id"], lst["status"], lst["item_count"]) for lst in lists] == [(LIST, "draft", 72)]
        detail = (await http.get(f"/v1/lists/{LIST}")).json()
        assert detail["announced_on"] == "2021-04-20" and len(detail["items"]) == 72
        assert (await http.get("/v1/items", params={"limit": 200})).json()["next_cursor"] is None
    # A restart on the same database loads nothing again.
    await fresh.stack.aclose()
    fresh.stack = AsyncExitStack()
    bus = MemoryBus()
    await fresh.stack.enter_async_context(fresh.auth.router.lifespan_context(fresh.auth))
    fresh.app = await _start_catalogue(fresh.tmp, bus, fresh.auth, fresh.stack)
    async with await fresh.client() as http:
        assert len((await http.get("/v1/lists")).json()) == 1
        assert len((await http.get("/v1/items", params={"limit": 200})).json()["items"]) == 72
    assert not fresh.events("cn.tongban.catalogue.item.published.v1"), "loading publishes nothing"


async def test_every_endpoint_needs_a_token_and_writes_a_maintainer(shared: Catalogue) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(shared.app), base_url="http://c") as anonymous:
        for path in ("/v1/items", "/v1/items/YRD-SB-0101", "/v1/lists", "/v1/windows", "/v1/areas",
                     "/v1/export"):
            assert (await anonymous.get(path)).status_code == 401, path
    async with await shared.client(scope="window_clerk") as clerk:
        assert (await clerk.get("/v1/items/YRD-SB-0101")).status_code == 200
        assert (await clerk.post(f"/v1/lists/{LIST}/publish")).status_code == 403
        assert (await clerk.get("/v1/export")).status_code == 403
        assert (await clerk.post("/v1/import?format=csv&sheet=items", content=b"code\n")).status_code == 403


async def _codes(http: httpx.AsyncClient, **params: Any) -> list[str]:
    codes: list[str] = []
    cursor = None
    while True:
        response = await http.get("/v1/items", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        codes += [i["code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return codes


async def test_search_in_chinese_and_english(shared: Catalogue) -> None:
    async with await shared.client() as http:
        assert await _codes(http, q="医保") == MEDICAL
        licences = (await http.get("/v1/items", params={"q": "business licence"})).json()["items"]
        assert {i["code"] for i in licences} >= {"YRD-SC-0111", "YRD-SC-0112", "YRD-SC-0116"}
        assert all("business licence" in i["name_en"] for i in licences)
        assert await _codes(http, q="Business License") == [i["code"] for i in licences]
        assert await _codes(http, q="社保卡") == [f"YRD-SB-010{n}" for n in range(1, 6)]
        assert await _codes(http, q="异地就医 备案") == ["YRD-YB-0104", "YRD-YB-0105", "YRD-YB-0106", "YRD-YB-0107"]
        assert await _codes(http, q="yrd-da-0101") == ["YRD-DA-0101"]
        assert await _codes(http, q="医保", mode="joint_handling") == ["YRD-YB-0103"]
        assert await _codes(http, q="档案", area="medical_insurance") == []
        assert len(await _codes(http, locality=BOZHOU, limit=7)) == 72
        assert len(await _codes(http, list=LIST, status="draft", limit=200)) == 72
        assert await _codes(http, q="unicorn") == []


async def test_invalid_filters_name_the_field(shared: Catalogue) -> None:
    async with await shared.client() as http:
        cases = {
            "query.q": {"q": "!!! ?"},
            "query.locality": {"locality": "320200"},  # Wuxi: a valid code, not a registered locality
            "query.mode": {"mode": "by_pigeon"},
            "query.list": {"list": "no-such-list.v1"},
            "query.status": {"status": "lost"},
            "query.limit": {"limit": 0},
            "query.area": {"area": "Medical Insurance"},
            "query.cursor": {"cursor": "bm90IGEgY3Vyc29y"},
        }
        for name, params in cases.items():
            response = await http.get("/v1/items", params=params)
            assert response.status_code == 422, (name, response.text)
            assert name in _fields(response), (name, response.json())
        first = (await http.get("/v1/items", params={"q": "医保", "limit": 5})).json()
        other = await http.get("/v1/items", params={"q": "社保", "cursor": first["next_cursor"]})
        assert other.status_code == 422 and _fields(other) == ["query.cursor"]
        assert (await http.get("/v1/windows", params={"locality": "abc"})).status_code == 422
        assert _fields(await http.get("/v1/windows", params={"item": "YRD-ZZ-9999"})) == ["query.item"]
        assert _fields(await http.get("/v1/items/YRD-SB-0101/standards", params={"locality": "320200"})) == [
            "query.locality"]


async def test_cursor_pages_and_etags(shared: Catalogue) -> None:
    async with await shared.client() as http:
        codes = await _codes(http, limit=10)
        assert len(codes) == 72 and codes == sorted(codes) and len(set(codes)) == 72
        first = await http.get("/v1/items", params={"limit": 10})
        assert "YRD" not in first.json()["next_cursor"]
        etag = first.headers["etag"]
        again = await http.get("/v1/items", params={"limit": 10}, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        item = await http.get("/v1/items/YRD-YB-0104")
        assert (await http.get("/v1/items/YRD-YB-0104", headers={"If-None-Match": f'W/{item.headers["etag"]}'})
                ).status_code == 304
        assert (await http.get("/v1/items/YRD-YB-0104", headers={"If-None-Match": '"other"'})).status_code == 200


async def test_item_standards_and_their_differences(shared: Catalogue) -> None:
    async with await shared.client() as http:
        item = (await http.get("/v1/items/YRD-SB-0101")).json()
        assert item["ownership_rule"] == "insured_place"
        assert item["modes"] == ["fully_online", "accepted_here_handled_there"]
        assert item["committed_days_by_locality"] == {YANGPU: 1, SUZHOU: 7, TAIZHOU: 10, BOZHOU: 15}
        assert item["committed_days"] == 15 and item["lists"] == [LIST]
        one = (await http.get("/v1/items/YRD-SB-0101/standards", params={"locality": BOZHOU})).json()
        assert [s["locality"] for s in one["standards"]] == [BOZHOU]
        assert one["ownership_rule"] == "insured_place" and one["standards"][0]["committed_days"] == 15
        assert {m["name"] for m in one["standards"][0]["materials"]} >= {"居民身份证"}
        assert len((await http.get("/v1/items/YRD-SB-0101/standards")).json()["standards"]) == 4
        diff = (await http.get("/v1/items/YRD-SB-0101/standards/diff")).json()
        by_field = {d["field"]: d["values"] for d in diff["differences"]}
        assert by_field["committed_days"] == {YANGPU: 1, SUZHOU: 7, TAIZHOU: 10, BOZHOU: 15}
        assert by_field["materials[居民身份证].electronic_accepted"][BOZHOU] is False
        assert "legal_days" in diff["identical"]
        pair = (await http.get("/v1/items/YRD-SB-0101/standards/diff",
                               params={"localities": f"{YANGPU},{SUZHOU}"})).json()
        assert pair["localities"] == [YANGPU, SUZHOU]
        missing = await http.get("/v1/items/YRD-ZZ-0001")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        assert (await http.get("/v1/items/YRD-ZZ-0001/standards/diff")).status_code == 404
        assert (await http.get("/v1/lists/nope.v1")).status_code == 404
        assert (await http.get(f"/v1/lists/{LIST}/diff/nope.v1")).status_code == 404
        procedures = (await http.get("/v1/items/YRD-SB-0108/procedures")).json()
        assert [p["mode"] for p in procedures] == ["fully_online", "joint_handling"]
        assert {s["locality"] for s in procedures[1]["steps"]} == {"accepting", "every_owning"}


async def test_windows_by_locality_and_item(shared: Catalogue) -> None:
    async with await shared.client() as http:
        taizhou = (await http.get("/v1/windows", params={"locality": TAIZHOU})).json()
        assert [w["id"] for w in taizhou] == ["W-331000-01", "W-331000-02"]
        assert all(w["address"] and w["hours"] and w["phone"] for w in taizhou)
        medical = (await http.get("/v1/windows", params={"item": "YRD-YB-0104"})).json()
        assert [w["id"] for w in medical] == ["W-310110-01", "W-310110-02", "W-320505-01", "W-331000-01",
                                              "W-341600-01"]
        assert (await http.get("/v1/windows", params={"locality": YANGPU, "item": "YRD-SB-0101"})).json()[0][
            "id"] == "W-310110-01"
        assert (await http.get("/v1/windows/W-999999-01")).status_code == 404


# ---------------------------------------------------------------------------- writing


async def test_publishing_lists_and_items_reaches_every_topic(fresh: Catalogue) -> None:
    async with await fresh.client(REGIONAL) as http:
        published = await http.post(f"/v1/lists/{LIST}/publish")
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        assert {i["revision"] for i in published.json()["items"]} == {1}
        await wait_for(lambda: len(fresh.events("cn.tongban.catalogue.item.published.v1")) == 72 * 4)
        lists = fresh.events("cn.tongban.catalogue.list.published.v1")
        assert sorted(topic for topic, _ in lists) == sorted(f"tongban.locality.{c}" for c in LOCALITIES)
        assert lists[0][1]["item_codes"][:2] == ["YRD-SC-0101", "YRD-SC-0102"] and lists[0][1]["supersedes"] is None
        card = [d for _t, d in fresh.events("cn.tongban.catalogue.item.published.v1") if d["code"] == "YRD-SB-0101"]
        assert card[0]["committed_days_by_locality"] == {YANGPU: 1, SUZHOU: 7, TAIZHOU: 10, BOZHOU: 15}
        assert card[0]["modes"] == ["fully_online", "accepted_here_handled_there"] and card[0]["committed_days"] == 15

        # A published list is immutable; a change makes a new version.
        assert (await http.post(f"/v1/lists/{LIST}/publish")).status_code == 409
        assert (await http.patch(f"/v1/lists/{LIST}", json={"name_en": "x"})).status_code == 409
        draft = await http.post(f"/v1/lists/{LIST}/versions")
        assert draft.status_code == 201 and draft.json()["id"] == "yrd-first-list.v2"
        assert (await http.post(f"/v1/lists/{LIST}/versions")).status_code == 409, "one draft at a time"
        codes = [i["code"] for i in draft.json()["items"] if i["code"] != "YRD-DA-0116"]
        assert (await http.patch("/v1/lists/yrd-first-list.v2", json={"item_codes": codes})).status_code == 200
        bad = await http.patch("/v1/lists/yrd-first-list.v2", json={"item_codes": [*codes, "YRD-ZZ-0001"]})
        assert bad.status_code == 422 and _fields(bad) == ["body.item_codes"]

        # Changing a published item makes its next revision and announces it.
        edited = await http.patch("/v1/items/YRD-SB-0101", json={"name_en": "Social security card application"})
        assert edited.json()["revision"] == 2
        standard = (await http.get("/v1/items/YRD-SB-0101/standards", params={"locality": BOZHOU})).json()
        body = {k: v for k, v in standard["standards"][0].items() if k != "locality"}
        body["committed_days"] = 12
        assert (await http.put(f"/v1/items/YRD-SB-0101/standards/{BOZHOU}", json=body)).status_code == 200
        item = (await http.get("/v1/items/YRD-SB-0101")).json()
        assert (item["revision"], item["committed_days"]) == (3, 12)
        await wait_for(lambda: any(d["code"] == "YRD-SB-0101" and d["revision"] == 3
                                   for _t, d in fresh.events("cn.tongban.catalogue.item.published.v1")))
        body["committed_days"] = 30  # more than the legal 20
        rejected = await http.put(f"/v1/items/YRD-SB-0101/standards/{BOZHOU}", json=body)
        assert rejected.status_code == 422 and _fields(rejected) == ["body.committed_days"]
        assert (await http.put("/v1/items/YRD-SB-0101/standards/320200", json=body)).status_code == 404
        assert (await http.patch("/v1/items/YRD-SB-0101", json={"committed_days": 3})).status_code == 409

        second = await http.post("/v1/lists/yrd-first-list.v2/publish")
        assert second.status_code == 200
        assert (await http.get(f"/v1/lists/{LIST}")).json()["status"] == "superseded"
        diff = (await http.get(f"/v1/lists/{LIST}/diff/yrd-first-list.v2")).json()
        assert diff["removed"] == ["YRD-DA-0116"] and diff["added"] == []
        [changed] = diff["changed"]
        assert (changed["code"], changed["from_revision"], changed["to_revision"]) == ("YRD-SB-0101", 1, 3)
        fields = {c["field"]: (c["before"], c["after"]) for c in changed["changes"]}
        assert fields["name_en"] == ("Application for a social security card", "Social security card application")
        assert fields[f"standards.{BOZHOU}.committed_days"] == (15, 12)
        assert diff["unchanged"] == 70

        withdrawn = await http.post("/v1/items/YRD-DA-0116/withdraw", json={"reason": "moved to the next list"})
        assert withdrawn.json()["status"] == "withdrawn"
        await wait_for(lambda: len(fresh.events("cn.tongban.catalogue.item.withdrawn.v1")) == 4)


async def _export_rows(http: httpx.AsyncClient) -> dict[str, list[Any]]:
    response = await http.get("/v1/export", params={"format": "xlsx"})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX_MEDIA_TYPE
    return {t.sheet: t.rows for t in read_xlsx(response.content)}


async def test_xlsx_export_imported_back_changes_nothing(fresh: Catalogue) -> None:
    async with await fresh.client(REGIONAL) as http:
        assert (await http.post(f"/v1/lists/{LIST}/publish")).status_code == 200
        await wait_for(lambda: len(fresh.events("cn.tongban.catalogue.item.published.v1")) == 72 * 4)
        before = await _export_rows(http)
        workbook = (await http.get("/v1/export")).content
        report = await http.post("/v1/import", content=workbook, headers={"Content-Type": XLSX_MEDIA_TYPE})
        assert report.status_code == 200, report.text
        assert report.json()["items_unchanged"] == 72 and report.json()["items_changed"] == 0
        assert report.json()["events"] == 0 and report.json()["windows_changed"] == 0
        assert await _export_rows(http) == before
        revisions = {i["code"]: i["revision"] for i in (await http.get("/v1/items", params={"limit": 200})).json()[
            "items"]}
        assert set(revisions.values()) == {1}
        # as a form upload too
        files = {"file": ("catalogue.xlsx", workbook, XLSX_MEDIA_TYPE)}
        assert (await http.post("/v1/import", files=files)).json()["items_changed"] == 0
    await asyncio.sleep(0.3)
    assert len(fresh.events("cn.tongban.catalogue.item.published.v1")) == 72 * 4, "no event for no change"


async def test_csv_import_changes_what_it_says(fresh: Catalogue) -> None:
    async with await fresh.client(REGIONAL) as http:
        exported = await http.get("/v1/export", params={"format": "csv", "sheet": "standards"})
        assert exported.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        header = rows[0]
        target = next(r for r in rows[1:] if r[0] == "YRD-YB-0104" and r[1] == TAIZHOU)
        target[header.index("committed_days")] = "1"
        out = io.StringIO()
        csv.writer(out).writerows([header, target])
        dry = await http.post("/v1/import", params={"format": "csv", "sheet": "standards", "dry_run": "true"},
                              content=out.getvalue().encode("utf-8"), headers={"Content-Type": "text/csv"})
        assert dry.json()["items_changed"] == 1 and dry.json()["dry_run"] is True
        unchanged = (await http.get("/v1/items/YRD-YB-0104")).json()
        assert unchanged["committed_days_by_locality"][TAIZHOU] == 0
        files = {"file": ("standards.csv", out.getvalue().encode("gb18030"), "text/csv")}
        report = await http.post("/v1/import", files=files)
        assert report.status_code == 200, report.text
        assert report.json()["items_changed"] == 1
        item = (await http.get("/v1/items/YRD-YB-0104")).json()
        assert item["committed_days_by_locality"][TAIZHOU] == 1 and item["revision"] == 0, "a draft stays a draft"


async def test_a_bad_import_changes_nothing_and_reports_every_bad_row(fresh: Catalogue) -> None:
    async with await fresh.client(REGIONAL) as http:
        before = await _export_rows(http)
        header = ["item_code", "locality", "competent_department", "legal_days", "committed_days", "fee"]
        rows = [
            header,
            ["YRD-SB-0101", YANGPU, "杨浦区人社局", "20", "2", "不收费"],  # good, but not applied
            ["YRD-SB-0101", SUZHOU, "苏州高新区人社局", "20", "25", "不收费"],  # committed > legal
            ["YRD-ZZ-0001", YANGPU, "某局", "5", "1", "不收费"],  # unknown item
            ["YRD-SB-0102", "320200", "某局", "5", "1", "不收费"],  # unknown locality
            ["YRD-SB-0103", TAIZHOU, "", "five", "1", "不收费"],  # two bad cells
        ]
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        response = await http.post("/v1/import", params={"format": "csv", "sheet": "standards"},
                                   content=out.getvalue().encode("utf-8"))
        assert response.status_code == 422
        problem = response.json()
        assert problem["type"].endswith("/import-rejected") and "nothing was imported" in problem["detail"]
        reported = [(e["sheet"], e["row"], e["column"]) for e in problem["errors"]]
        assert reported == [
            ("standards", 3, "committed_days"), ("standards", 4, "item_code"), ("standards", 5, "locality"),
            ("standards", 6, "competent_department"), ("standards", 6, "legal_days"),
        ]
        assert all(e["reason"] for e in problem["errors"])
        assert await _export_rows(http) == before
        garbage = await http.post("/v1/import", content=b"PK\x03\x04 not really a workbook",
                                  headers={"Content-Type": XLSX_MEDIA_TYPE})
        assert garbage.status_code == 422 and garbage.json()["errors"][0]["reason"].startswith("not an XLSX")
        assert _fields(await http.post("/v1/import", params={"format": "csv"}, content=b"a,b\n")) == ["query.sheet"]
