"""The embedded system (``tongban up``): one process, SQLite, in-process bus, credentials printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

from tongban.testbed.infra import REPO
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.patience import deadline as patient_deadline
from tongban.testbed.processes import port_offset

ITEM = {
    "code": "YRD-MS-0001", "name_zh": "营业执照遗失补领", "name_en": "Replacement of a lost business licence",
    "area": "market_supervision", "modes": ["accepted_here_handled_there"],
    "ownership_rule": "enterprise_registration_place", "committed_days": 3,
}


async def test_tongban_up_runs_the_whole_system(tmp_path: Path) -> None:
    offset = port_offset()
    env = {**os.environ, "TONGBAN_DATA_DIR": str(tmp_path / "data"), "TONGBAN_PORT_OFFSET": str(offset)}
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "tongban.cli", "up"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = patient_deadline(60)
        while "client_secret=" not in (tmp_path / "up.log").read_text(errors="replace"):
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, "no credentials printed"
            time.sleep(0.2)
        printed = (tmp_path / "up.log").read_text()
        stored = json.loads((tmp_path / "data" / "credentials.json").read_text())
        assert {c["locality"] for c in stored} == {"310110", "320505", "331000", "341600"}
        assert all(c["client_secret"] in printed for c in stored)
        for name in ("catalogue", "routing", "authorization", "delivery"):
            assert (tmp_path / "data" / f"{name}.db").exists(), f"{name} has its own SQLite database"

        base = {name: f"http://127.0.0.1:{8101 + i + offset}" for i, name in
                enumerate(("catalogue", "routing", "authorization", "delivery"))}
        taizhou = next(c for c in stored if c["locality"] == "331000")
        async with httpx.AsyncClient(timeout=10) as http:
            for url in base.values():
                assert (await http.get(url + "/readyz")).json()["status"] == "ready"
            token = await http.post(base["authorization"] + "/oauth/token", data={
                "grant_type": "client_credentials", "client_id": taizhou["client_id"],
                "client_secret": taizhou["client_secret"]})
            assert token.status_code == 200, token.text
            http.headers["Authorization"] = "Bearer " + token.json()["access_token"]
            # The first list was published by the embedded system itself (no locality's client can).
            lists = (await http.get(base["catalogue"] + "/v1/lists")).json()
            assert [(x["id"], x["status"]) for x in lists] == [("yrd-first-list.v1", "published")]
            # No locality's client holds a regional role; the joint office's own client does.
            assert not any(set(c["roles"]) & {"regional_catalogue", "regional_calendar", "regional_operator"}
                           for c in stored)
            assert (await http.post(base["catalogue"] + "/v1/items", json=ITEM)).status_code == 403
            office_file = tmp_path / "data" / "regional-credentials.json"
            office = json.loads(office_file.read_text())
            assert office_file.stat().st_mode & 0o777 == 0o600 and office["client_secret"] in printed
            assert office["roles"] == ["regional_catalogue", "regional_calendar", "regional_operator"]
            office_token = await http.post(base["authorization"] + "/oauth/token", data={
                "grant_type": "client_credentials", "client_id": office["client_id"],
                "client_secret": office["client_secret"]})
            regional = {"Authorization": "Bearer " + office_token.json()["access_token"]}
            assert (await http.post(base["catalogue"] + "/v1/items", json=ITEM, headers=regional)).status_code == 201
            assert (await http.post(base["catalogue"] + "/v1/items/YRD-MS-0001/publish",
                                    headers=regional)).status_code == 200
            submission = {"item_code": "YRD-MS-0001", "mode": "accepted_here_handled_there",
                          "ownership": {"enterprise_registration_place": ["310110"]},
                          "applicant_id": "91341600MA2TXXXX0X"}
            bad = await http.post(base["routing"] + "/v1/cases", json=submission)
            assert bad.status_code == 422 and bad.json()["type"].endswith("invalid-identifier")
            submission["applicant_id"] = "11010519491231002X"
            created: list[httpx.Response] = []

            async def accepted() -> bool:
                created.append(await http.post(base["routing"] + "/v1/cases", json=submission))
                assert created[-1].status_code in (201, 422), created[-1].text
                return created[-1].status_code == 201

            await wait_for(accepted, timeout=30)
            assert created[-1].status_code == 201, created[-1].text
            case_id = created[-1].json()["id"]
            assert created[-1].headers["Location"] == f"/v1/cases/{case_id}"
            for action in ("accept", "forward"):
                response = await http.post(f"{base['routing']}/v1/cases/{case_id}/transitions",
                                           json={"action": action})
                assert response.status_code == 200, response.text
            # SQLite gives times back without their zone: the API still answers them with their offset.
            read = (await http.get(f"{base['routing']}/v1/cases/{case_id}")).json()
            assert read["submitted_at"] == created[-1].json()["submitted_at"]
            times = [read["submitted_at"], *(step["at"] for step in read["timeline"])]
            assert len(times) == 4 and all(datetime.fromisoformat(t).utcoffset() is not None for t in times), times

            async def waybill() -> bool:
                return bool((await http.get(f"{base['routing']}/v1/cases/{case_id}")).json()["waybill_numbers"])

            await wait_for(waybill, timeout=30)
    finally:
        proc.terminate()
        proc.wait(15)
    # A second start reuses the databases and prints the same credentials.
    proc = subprocess.Popen([sys.executable, "-m", "tongban.cli", "up"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = patient_deadline(60)
        output = b""
        while b"client_secret=" + stored[-1]["client_secret"].encode() not in output:
            assert time.monotonic() < deadline
            output += proc.stdout.readline()  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(15)
