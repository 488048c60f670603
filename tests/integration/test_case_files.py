"""Case files on real processes, Kafka, PostgreSQL and SeaweedFS: the scans and the result travel.

Yangpu's window scans three materials (one of 20 MB) for a fully-online case that Bozhou owns; Bozhou
may start its review only once every one is in, and reads them byte for byte; Suzhou learns nothing;
a file whose bytes do not match its declared hash leaves no trace; SeaweedFS stopped in the middle of
an upload gives a 503 and leaves no row; Bozhou's decision letter reaches Yangpu; every download is in
the audit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from shared.envelope import Record
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tests.support.objects import bucket_objects, jpeg, object_bytes, pdf, png, put_raw
from tongban.testbed.agreements import activate
from tongban.testbed.infra import SeaweedFS
from tongban.testbed.kafka_io import read_topic
from tongban.testbed.world import scalar

Y, S, B = "310110", "320505", "341600"
MB = 1024 * 1024
ITEM = {"code": "YRD-DA-0901", "name_zh": "不动产登记资料查询", "name_en": "Real estate register query",
        "area": "archive_query", "modes": ["fully_online", "accepted_here_handled_there"],
        "ownership_rule": "property_location", "committed_days": 5}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _case(system: System, http: httpx.AsyncClient, scans: dict[str, bytes]) -> str:
    maintainer = await system.headers(Y)
    regional = await system.headers(REGIONAL)  # the joint office writes the catalogue
    catalogue = system.url("catalogue")
    assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
    assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
    body = {"item_code": ITEM["code"], "mode": "fully_online", "applicant_id": "11010519491231002X",
            "ownership": {"property_location": ["341602"]},
            "materials": [{"name": n, "form": "electronic", "sha256": sha(d)} for n, d in scans.items()]
            + [{"name": "委托书原件", "form": "paper"}]}
    created = await http.post(system.url("routing") + "/v1/cases", json=body, headers=maintainer)
    assert created.status_code == 201, created.text
    case_id: str = created.json()["id"]
    for locality, action in ((Y, "accept"), (Y, "forward"), (B, "receive")):
        await _move(system, http, case_id, locality, action, 200)
    return case_id


async def _move(system: System, http: httpx.AsyncClient, case_id: str, locality: str, action: str,
                expected: int) -> dict[str, Any]:
    answer = await http.post(system.url("routing") + f"/v1/cases/{case_id}/transitions", json={"action": action},
                             headers=await system.headers(locality))
    assert answer.status_code == expected, f"{action} by {locality}: {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


async def _put(system: System, http: httpx.AsyncClient, case_id: str, locality: str, digest: str,
               content: bytes | AsyncIterator[bytes], name: str, kind: str = "material") -> httpx.Response:
    return await http.put(system.url("routing") + f"/v1/cases/{case_id}/files/{digest}",
                          params={"name": name, "kind": kind}, content=content,
                          headers={**await system.headers(locality), "Content-Type": "application/octet-stream"})


async def _rows(system: System, case_id: str) -> int:
    return await scalar(system.database_urls["routing"], "SELECT count(*) FROM case_files WHERE case_id = :c",
                        c=case_id)


async def test_scans_and_result_travel_between_localities(start_system: SystemFactory, seaweedfs: SeaweedFS) -> None:
    bucket = f"tongban-files-{uuid.uuid4().hex[:8]}"
    system = await start_system("catalogue", "routing", env=seaweedfs.service_env(bucket))
    await activate(system, [Y, B, S])
    routing = system.url("routing")
    scans = {"身份证正反面": jpeg(MB), "不动产权证书": pdf(20 * MB), "户口簿": png(300 * 1024)}
    names = {"身份证正反面": "C:\\scans\\身份证 正反面.jpeg", "不动产权证书": "../../etc/不动产权证书.PDF",
             "户口簿": "户口簿.png"}
    async with httpx.AsyncClient(timeout=120) as http:
        case_id = await _case(system, http, scans)
        files_url = routing + f"/v1/cases/{case_id}/files"

        # Before any file is in, the owner may not start its review.
        early = await _move(system, http, case_id, B, "start_review", 409)
        assert early["type"].endswith("files-missing") and sorted(early["missing"]) == sorted(scans)

        # Bytes that do not hash to the declared value: 422, and neither an object nor a row remains.
        before = await bucket_objects(seaweedfs, bucket)
        wrong = await _put(system, http, case_id, Y, sha(scans["户口簿"]), png(300 * 1024), "户口簿.png")
        assert wrong.status_code == 422 and wrong.json()["type"].endswith("hash-mismatch"), wrong.text
        assert await bucket_objects(seaweedfs, bucket) == before and await _rows(system, case_id) == 0

        # Content is judged by its bytes: HTML named .pdf is refused (and no object stays).
        html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
        refused = await _put(system, http, case_id, Y, sha(scans["户口簿"]), html, "户口簿.pdf")
        assert refused.status_code == 415, refused.text

        for name in ("身份证正反面", "户口簿"):
            added = await _put(system, http, case_id, Y, sha(scans[name]), scans[name], names[name])
            assert added.status_code == 201, added.text
            assert added.json()["verified"] and added.headers["etag"] == f'"{sha(scans[name])}"'
        again = await _put(system, http, case_id, Y, sha(scans["户口簿"]), scans["户口簿"], "户口簿.png")
        assert again.status_code == 200, "the same file again changes nothing"

        # SeaweedFS stops in the middle of the 20 MB upload: 503 with Retry-After, no row; then it succeeds.
        big = scans["不动产权证书"]

        async def interrupted() -> AsyncIterator[bytes]:
            for offset in range(0, len(big), MB):
                if offset == 10 * MB:
                    await asyncio.to_thread(seaweedfs.stop)
                yield big[offset:offset + MB]

        try:
            down = await _put(system, http, case_id, Y, sha(big), interrupted(), names["不动产权证书"])
        finally:
            await asyncio.to_thread(seaweedfs.start)
        assert down.status_code == 503 and "retry-after" in down.headers, down.text
        assert down.headers["content-type"] == "application/problem+json"
        assert await _rows(system, case_id) == 2
        stored = await _put(system, http, case_id, Y, sha(big), big, names["不动产权证书"])
        assert stored.status_code == 201, stored.text
        assert stored.json()["name"] == "不动产权证书.pdf" and stored.json()["content_type"] == "application/pdf"

        listing = (await http.get(files_url, headers=await system.headers(B))).json()
        assert listing["complete"] and listing["missing"] == [] and len(listing["files"]) == 3
        assert {f["name"] for f in listing["files"]} == {"身份证 正反面.jpg", "不动产权证书.pdf", "户口簿.png"}

        # The store never holds a readable file; every object is named by a row (no orphans).
        objects = await bucket_objects(seaweedfs, bucket)
        assert len(objects) == 3
        for key in objects:
            raw = await object_bytes(seaweedfs, bucket, key)
            assert raw.startswith(b"TBF2\x07A256GCM") and not any(d[:4096] in raw for d in scans.values())

        # Bozhou reads every scan byte for byte (and a range of the big one), then starts its review.
        for name, data in scans.items():
            got = await http.get(f"{files_url}/{sha(data)}", headers=await system.headers(B))
            assert got.status_code == 200 and got.content == data, name
            assert got.headers["etag"] == f'"{sha(data)}"' and "attachment;" in got.headers["content-disposition"]
        part = await http.get(f"{files_url}/{sha(big)}", headers={**await system.headers(B),
                                                                    "Range": "bytes=5000000-5200000"})
        assert part.status_code == 206 and part.content == big[5_000_000:5_200_001]
        assert part.headers["content-range"] == f"bytes 5000000-5200000/{len(big)}"
        await _move(system, http, case_id, B, "start_review", 200)

        # Suzhou, no party to the case, gets 404 on every file route.
        suzhou = await system.headers(S)
        for method, url in (("GET", files_url), ("GET", f"{files_url}/{sha(big)}"), ("GET", f"{files_url}/downloads"),
                            ("PUT", f"{files_url}/{sha(big)}"), ("PUT", f"{files_url}/hold"),
                            ("DELETE", f"{files_url}/hold")):
            body: Any = {"reason": "x"} if url.endswith("/hold") and method == "PUT" else None
            answer = await http.request(method, url, headers=suzhou, json=body) if body else \
                await http.request(method, url, headers=suzhou, content=b"%PDF-1.7 x")
            assert answer.status_code == 404, f"{method} {url}: {answer.status_code} {answer.text}"

        # The decision letter: Bozhou decides, puts it in the file, issues the result; Yangpu fetches it.
        await _move(system, http, case_id, B, "approve", 200)
        letter = pdf(180 * 1024)
        issued = await _put(system, http, case_id, B, sha(letter), letter, "准予登记决定书.pdf", kind="result")
        assert issued.status_code == 201, issued.text
        result = await _move(system, http, case_id, B, "issue_result", 200)
        assert result["status"] == "result_issued"
        fetched = await http.get(f"{files_url}/{sha(letter)}", headers=await system.headers(Y))
        assert fetched.status_code == 200 and fetched.content == letter
        assert "filename*=UTF-8''%E5%87%86" in fetched.headers["content-disposition"]

        # The audit lists every download: who, which file, which case, when.
        audit = (await http.get(f"{files_url}/downloads", headers=await system.headers(Y))).json()["downloads"]
        assert [(d["locality"], d["sha256"], d["range"]) for d in audit] == [
            *((B, sha(d), f"0-{len(d) - 1}") for d in scans.values()), (B, sha(big), "5000000-5200000"),
            (Y, sha(letter), f"0-{len(letter) - 1}")]
        assert all(d["case_id"] == case_id and d["client_id"] and d["at"] for d in audit)

    # Yangpu's topic carries the files' events (hashes and sizes, never content) and the result's hash.
    def arrived(records: list[Record]) -> bool:
        mine = [r for r in records if r.key == case_id.encode()]
        types = [r.header("ce_type") for r in mine]
        issued = any(r.header("ce_type") == "cn.tongban.routing.case.status_changed.v1"
                     and json.loads(r.value)["to_status"] == "result_issued" for r in mine)
        return types.count("cn.tongban.routing.case.material_added.v1") == 3 and issued and \
            "cn.tongban.routing.case.result_document_issued.v1" in types

    records = await read_topic(system.kafka.bootstrap, system.topic(Y), until=arrived, timeout=60)
    mine = [(r.header("ce_type"), json.loads(r.value)) for r in records if r.key == case_id.encode()]
    added = [e for t, e in mine if t == "cn.tongban.routing.case.material_added.v1"]
    assert sorted((e["sha256"], e["size"]) for e in added) == sorted((sha(d), len(d)) for d in scans.values())
    assert [e["complete"] for e in added] == [False, False, True]
    letters = [e for t, e in mine if t == "cn.tongban.routing.case.result_document_issued.v1"]
    assert letters[0]["sha256"] == sha(letter) and letters[0]["size"] == len(letter)
    issued_event = next(e for t, e in mine if t == "cn.tongban.routing.case.status_changed.v1"
                        and e["to_status"] == "result_issued")
    assert issued_event["result_documents"] == [sha(letter)]
    assert not any(scans["户口簿"][100:200] in r.value for r in records)


async def test_orphans_are_swept_and_retention_purges_unless_held(start_system: SystemFactory,
                                                                   seaweedfs: SeaweedFS) -> None:
    """A crashed upload's object is swept; a closed case's files are purged, except under a legal hold."""
    bucket = f"tongban-files-{uuid.uuid4().hex[:8]}"
    system = await start_system("catalogue", "routing", env={**seaweedfs.service_env(bucket),
                                                             "TONGBAN_FILE_RETENTION_DAYS": "0"})
    await activate(system, [Y, B])
    routing = system.url("routing")
    async with httpx.AsyncClient(timeout=60) as http:
        scan = pdf(200 * 1024)
        case_id = await _case(system, http, {"身份证": scan})
        assert (await _put(system, http, case_id, Y, sha(scan), scan, "身份证.pdf")).status_code == 201
        await put_raw(seaweedfs, bucket, f"cases/{case_id}/crashed-upload", b"sealed bytes no row names")
        operator = await system.headers(B)
        kept = await http.post(routing + "/v1/files/sweep", headers=operator)  # younger than the grace time
        assert kept.status_code == 200 and kept.json()["removed"] == 0
        swept = await http.post(routing + "/v1/files/sweep", params={"grace_seconds": 0}, headers=operator)
        assert swept.json() == {"seen": 2, "removed": 1}
        left = await bucket_objects(seaweedfs, bucket)
        assert len(left) == 1 and not any(k.endswith("crashed-upload") for k in left)

        for locality, action in ((B, "start_review"), (B, "approve"), (B, "issue_result"), (B, "deliver_result"),
                                 (Y, "close")):
            await _move(system, http, case_id, locality, action, 200)
        hold = await http.put(routing + f"/v1/cases/{case_id}/files/hold", json={"reason": "行政复议 / review"},
                              headers=await system.headers(Y))
        assert hold.status_code == 200, hold.text
        held = await http.post(routing + "/v1/files/purge", headers=operator)
        assert held.json() == {"cases": 0, "files": 0, "held": 1}
        assert len(await bucket_objects(seaweedfs, bucket)) == 1
        assert (await http.delete(routing + f"/v1/cases/{case_id}/files/hold",
                                  headers=await system.headers(Y))).status_code == 200
        purged = await http.post(routing + "/v1/files/purge", headers=operator)
        assert purged.json() == {"cases": 1, "files": 1, "held": 0}
        assert await bucket_objects(seaweedfs, bucket) == {}
        gone = await http.get(routing + f"/v1/cases/{case_id}/files/{sha(scan)}", headers=await system.headers(B))
        assert gone.status_code == 404

    def purge_told(records: list[Record]) -> bool:
        return any(r.header("ce_type") == "cn.tongban.routing.case.files_purged.v1" and r.key == case_id.encode()
                   for r in records)

    records = await read_topic(system.kafka.bootstrap, system.topic(B), until=purge_told)
    event = next(json.loads(r.value) for r in records
                 if r.header("ce_type") == "cn.tongban.routing.case.files_purged.v1")
    assert event["sha256s"] == [sha(scan)] and event["bytes"] == len(scan)
