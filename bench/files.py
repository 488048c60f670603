"""W6: case files through routing (streamed, hashed, sniffed, sealed) beside raw PUT/GET on the same SeaweedFS.

For each size (1 MB and 20 MB scans) one fully-online case declares ``count`` materials; Suzhou's window
uploads them one after the other and Bozhou downloads them; then the same bytes go straight to the
same SeaweedFS with one S3 client (PUT and GET, no hashing, sealing or database), in the same run.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from typing import Any

import httpx
from aiobotocore.session import get_session
from botocore.config import Config

from bench.load import summary_ms
from bench.system import ACCEPTING, OWNING, BenchSystem, pick_item
from tongban.testbed.infra import SeaweedFS

MB = 1024 * 1024


def _scan(size: int) -> bytes:
    head, tail = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


def _side(durations: list[float], total_bytes: int) -> dict[str, Any]:
    spent = sum(durations)
    return {**summary_ms(durations), "mb_per_second": round(total_bytes / MB / spent, 2) if spent else None,
            "files": len(durations)}


async def _through_routing(bench: BenchSystem, scans: list[bytes]) -> dict[str, Any]:
    item = pick_item("fully_online")
    body = {"item_code": item["code"], "mode": "fully_online", "applicant_id": "11010519491231002X",
            "ownership": {item["ownership_rule"]: [OWNING]},
            "materials": [{"name": f"扫描件 {i}", "form": "electronic", "sha256": hashlib.sha256(d).hexdigest()}
                          for i, d in enumerate(scans)]}
    window, owner = await bench.headers(ACCEPTING), await bench.headers(OWNING)
    routing = bench.url("routing")
    async with httpx.AsyncClient(timeout=300) as http:
        created = await http.post(routing + "/v1/cases", json=body, headers=window)
        if created.status_code != 201:
            raise RuntimeError(f"W6 case refused: {created.status_code} {created.text[:300]}")
        files = routing + f"/v1/cases/{created.json()['id']}/files"
        uploads, downloads = [], []
        for data in scans:
            digest = hashlib.sha256(data).hexdigest()
            started = time.perf_counter()
            answer = await http.put(f"{files}/{digest}", content=data, headers=window)
            uploads.append(time.perf_counter() - started)
            if answer.status_code != 201:
                raise RuntimeError(f"W6 upload: {answer.status_code} {answer.text[:300]}")
        for data in scans:
            digest = hashlib.sha256(data).hexdigest()
            started = time.perf_counter()
            got = await http.get(f"{files}/{digest}", headers=owner)
            downloads.append(time.perf_counter() - started)
            if got.status_code != 200 or len(got.content) != len(data):
                raise RuntimeError(f"W6 download: {got.status_code}")
    total = sum(len(d) for d in scans)
    return {"upload": _side(uploads, total), "download": _side(downloads, total)}


async def _raw(seaweedfs: SeaweedFS, bucket: str, scans: list[bytes]) -> dict[str, Any]:
    config = Config(s3={"addressing_style": "path"})
    puts, gets = [], []
    async with get_session().create_client(
            "s3", endpoint_url=seaweedfs.endpoint, region_name="us-east-1", aws_access_key_id=seaweedfs.access_key,
            aws_secret_access_key=seaweedfs.secret_key, config=config) as s3:
        keys = [f"raw/{uuid.uuid4().hex}" for _ in scans]
        for key, data in zip(keys, scans, strict=True):
            started = time.perf_counter()
            await s3.put_object(Bucket=bucket, Key=key, Body=data)
            puts.append(time.perf_counter() - started)
        for key in keys:
            started = time.perf_counter()
            answer = await s3.get_object(Bucket=bucket, Key=key)
            async with answer["Body"] as stream:
                while await stream.read(256 * 1024):
                    pass
            gets.append(time.perf_counter() - started)
        for key in keys:
            await s3.delete_object(Bucket=bucket, Key=key)
    total = sum(len(d) for d in scans)
    return {"put": _side(puts, total), "get": _side(gets, total)}


async def w6_files(bench: BenchSystem, seaweedfs: SeaweedFS, bucket: str, small: int, large: int) -> dict[str, Any]:
    """Upload and download throughput and latency of 1 MB and 20 MB files, system and raw."""
    result: dict[str, Any] = {}
    for label, size, count in (("1MB", MB, small), ("20MB", 20 * MB, large)):
        scans = [_scan(size) for _ in range(count)]
        result[label] = {"system": await _through_routing(bench, scans), "raw": await _raw(seaweedfs, bucket, scans)}
    return {"sizes": result}
