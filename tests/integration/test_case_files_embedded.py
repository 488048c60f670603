"""Case files under ``tongban up`` (as ``make run`` starts it): the folder backend under the data dir."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.objects import jpeg, pdf, png
from tongban.testbed.infra import REPO
from tongban.testbed.processes import port_offset

Y, S, B = "310110", "320505", "341600"
MB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_objects(data_dir: Path) -> list[Path]:
    """The committed objects of routing's folder store."""
    root = data_dir / "objects" / "routing"
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]


def file_rows(data_dir: Path, case_id: str) -> int:
    with sqlite3.connect(data_dir / "routing.db") as db:
        return int(db.execute("SELECT count(*) FROM case_files WHERE case_id = ?", (case_id,)).fetchone()[0])


async def test_make_run_keeps_case_files_in_a_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    offset = port_offset()
    env = {**os.environ, "TONGBAN_DATA_DIR": str(data_dir), "TONGBAN_PORT_OFFSET": str(offset)}
    log_path = tmp_path / "up.log"
    proc = subprocess.Popen([sys.executable, "-m", "tongban.cli", "up"], cwd=REPO, env=env,
                            stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while "client_secret=" not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "tongban up printed no credentials"
            time.sleep(0.3)
        credentials = {c["locality"]: c for c in json.loads((data_dir / "credentials.json").read_text())}
        routing, auth = f"http://127.0.0.1:{8102 + offset}", f"http://127.0.0.1:{8103 + offset}"
        async with httpx.AsyncClient(timeout=120) as http:
            tokens: dict[str, dict[str, str]] = {}
            for code in (Y, S, B):
                answer = await http.post(auth + "/oauth/token", data={
                    "grant_type": "client_credentials", "client_id": credentials[code]["client_id"],
                    "client_secret": credentials[code]["client_secret"]})
                assert answer.status_code == 200, answer.text
                tokens[code] = {"Authorization": "Bearer " + answer.json()["access_token"]}

            # The names of Bozhou's business standard of the item (routing checks them at acceptance).
            scans = {"居民身份证": jpeg(MB), "《不动产登记资料查询申请书》": pdf(20 * MB), "户口簿": png(200 * 1024)}
            body = {"item_code": "YRD-DA-0101", "mode": "fully_online", "applicant_id": "11010519491231002X",
                    "ownership": {"property_location": ["341602"]},
                    "materials": [{"name": n, "form": "electronic", "sha256": sha(d)} for n, d in scans.items()]}
            for _ in range(60):  # the first list is published a moment after start
                created = await http.post(routing + "/v1/cases", json=body, headers=tokens[Y])
                if created.status_code == 201:
                    break
                await asyncio.sleep(0.5)
            assert created.status_code == 201, created.text
            case_id = created.json()["id"]

            async def move(locality: str, action: str, expected: int = 200) -> None:
                answer = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": action},
                                         headers=tokens[locality])
                assert answer.status_code == expected, f"{action}: {answer.text}"

            for locality, action in ((Y, "accept"), (Y, "forward"), (B, "receive")):
                await move(locality, action)
            await move(B, "start_review", 409)
            files = routing + f"/v1/cases/{case_id}/files"

            wrong = await http.put(f"{files}/{sha(scans['户口簿'])}", content=png(200 * 1024), headers=tokens[Y])
            assert wrong.status_code == 422 and stored_objects(data_dir) == [] and file_rows(data_dir, case_id) == 0
            for name, data in scans.items():
                added = await http.put(f"{files}/{sha(data)}", params={"name": f"{name}.scan"}, content=data,
                                       headers=tokens[Y])
                assert added.status_code == 201, added.text
            assert len(stored_objects(data_dir)) == 3 and file_rows(data_dir, case_id) == 3
            for path in stored_objects(data_dir):
                raw = path.read_bytes()
                assert raw.startswith(b"TBF2\x07A256GCM") and not any(d[:4096] in raw for d in scans.values())

            for data in scans.values():
                got = await http.get(f"{files}/{sha(data)}", headers=tokens[B])
                assert got.status_code == 200 and got.content == data
            big = scans["《不动产登记资料查询申请书》"]
            tail = await http.get(f"{files}/{sha(big)}", headers={**tokens[B], "Range": "bytes=-1000"})
            assert tail.status_code == 206 and tail.content == big[-1000:]
            await move(B, "start_review")
            for url in (files, f"{files}/{sha(scans['居民身份证'])}", f"{files}/downloads"):
                assert (await http.get(url, headers=tokens[S])).status_code == 404

            await move(B, "approve")
            letter = pdf(100 * 1024)
            issued = await http.put(f"{files}/{sha(letter)}", params={"kind": "result", "name": "决定书.pdf"},
                                    content=letter, headers=tokens[B])
            assert issued.status_code == 201, issued.text
            await move(B, "issue_result")
            fetched = await http.get(f"{files}/{sha(letter)}", headers=tokens[Y])
            assert fetched.status_code == 200 and fetched.content == letter
            audit = (await http.get(f"{files}/downloads", headers=tokens[Y])).json()["downloads"]
            assert [d["locality"] for d in audit] == [B, B, B, B, Y]
            form = sha(scans["《不动产登记资料查询申请书》"])
            assert [d["sha256"] for d in audit] == [*(sha(d) for d in scans.values()), form, sha(letter)]
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
