"""The embedded system's development simulator: a journey played inside the delivery service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tongban.testbed.infra import REPO
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.patience import deadline as patient_deadline
from tongban.testbed.processes import port_offset

ITEM = {
    "code": "YRD-DA-0001", "name_zh": "婚姻登记档案查询", "name_en": "Marriage registration records query",
    "area": "archive_query", "modes": ["accepted_here_handled_there"],
    "ownership_rule": "household_registration_place", "committed_days": 3,
}
TAIZHOU, YANGPU = "331000", "310110"


async def test_development_simulator_plays_a_return(tmp_path: Path) -> None:
    offset = port_offset()
    env = {**os.environ, "TONGBAN_DATA_DIR": str(tmp_path / "data"), "TONGBAN_PORT_OFFSET": str(offset)}
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "tongban.cli", "up"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = patient_deadline(90)
        while "client_secret=" not in (tmp_path / "up.log").read_text(errors="replace"):
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, "no credentials printed"
            time.sleep(0.2)
        stored = json.loads((tmp_path / "data" / "credentials.json").read_text())
        base = {name: f"http://127.0.0.1:{8101 + i + offset}" for i, name in
                enumerate(("catalogue", "routing", "authorization", "delivery"))}
        taizhou = next(c for c in stored if c["locality"] == TAIZHOU)
        async with httpx.AsyncClient(timeout=10) as http:
            token = await http.post(base["authorization"] + "/oauth/token", data={
                "grant_type": "client_credentials", "client_id": taizhou["client_id"],
                "client_secret": taizhou["client_secret"]})
            assert token.status_code == 200, token.text
            http.headers["Authorization"] = "Bearer " + token.json()["access_token"]
            office = json.loads((tmp_path / "data" / "regional-credentials.json").read_text())
            office_token = await http.post(base["authorization"] + "/oauth/token", data={
                "grant_type": "client_credentials", "client_id": office["client_id"],
                "client_secret": office["client_secret"]})
            regional = {"Authorization": "Bearer " + office_token.json()["access_token"]}  # the joint office
            assert (await http.post(base["catalogue"] + "/v1/items", json=ITEM, headers=regional)).status_code == 201
            assert (await http.post(base["catalogue"] + f"/v1/items/{ITEM['code']}/publish",
                                    headers=regional)).status_code == 200
            submission = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there",
                          "ownership": {"household_registration_place": [YANGPU]},
                          "applicant_id": "11010519491231002X"}
            created: list[httpx.Response] = []

            async def accepted() -> bool:
                created.append(await http.post(base["routing"] + "/v1/cases", json=submission))
                return created[-1].status_code == 201

            await wait_for(accepted, timeout=20)
            case_id = created[-1].json()["id"]
            for action in ("accept", "forward"):
                moved = await http.post(f"{base['routing']}/v1/cases/{case_id}/transitions", json={"action": action})
                assert moved.status_code == 200, moved.text
            numbers: list[str] = []

            async def waybill() -> bool:
                found = (await http.get(base["delivery"] + "/v1/waybills", params={"case_id": case_id})).json()
                numbers[:] = [w["number"] for w in found]
                return bool(numbers)

            await wait_for(waybill, timeout=20)
            played = await http.post(base["delivery"] + "/v1/dev/carrier/simulate",
                                     json={"waybill_number": numbers[0], "scenario": "returned", "speed": 2_000_000})
            assert played.status_code == 202, played.text
            codes = [e["code"] for e in played.json()["events"]]
            assert codes[0] == "EMA" and codes.count("EMH") == 2

            async def returned() -> bool:
                # The development simulator plays in the background: wait for its last event too.
                view = (await http.get(base["delivery"] + f"/v1/waybills/{numbers[0]}")).json()
                trail = (await http.get(base["delivery"] + f"/v1/waybills/{numbers[0]}/events")).json()
                return bool(view["status"] == "returned" and len(trail) == len(codes))

            await wait_for(returned, timeout=30)
            trail = (await http.get(base["delivery"] + f"/v1/waybills/{numbers[0]}/events")).json()
            assert [e["code"] for e in trail] == codes
            assert [e["action"] for e in trail if e["code"] == "EMH"] == ["redeliver", "return_to_sender"]

            # The owner issues the result; the command-line simulator carries it back, as a carrier of Taizhou.
            yangpu = next(c for c in stored if c["locality"] == YANGPU)
            owner_token = await http.post(base["authorization"] + "/oauth/token", data={
                "grant_type": "client_credentials", "client_id": yangpu["client_id"],
                "client_secret": yangpu["client_secret"]})
            owner = {"Authorization": "Bearer " + owner_token.json()["access_token"]}
            # The materials' post came back: they reach the owner otherwise, and the receipt says how (issue 16).
            handed = {"handover_reason": "材料退回后由杨浦窗口专人送达 / handed over by courier after the return"}
            for action, reached in (("receive", "received"), ("start_review", "under_review"),
                                    ("approve", "approved"), ("issue_result", "result_issued")):
                moved = await http.post(f"{base['routing']}/v1/cases/{case_id}/transitions",
                                        json={"action": action, **(handed if action == "receive" else {})},
                                        headers=owner)
                if moved.status_code == 409:  # routing moved it on delivery's event already
                    current = await http.get(f"{base['routing']}/v1/cases/{case_id}", headers=owner)
                    assert current.json()["status"] == reached, moved.text
                else:
                    assert moved.status_code == 200, moved.text
            carrier = await http.post(base["authorization"] + "/v1/clients",
                                      json={"locality": TAIZHOU, "name": "EMS 台州", "roles": ["carrier"]})
            assert carrier.status_code == 201, carrier.text

            async def result_waybill() -> bool:
                found = (await http.get(base["delivery"] + "/v1/waybills", params={"case_id": case_id})).json()
                return any(w["flow"] == "result" for w in found)

            await wait_for(result_waybill, timeout=20)
            command = [sys.executable, "-m", "tongban.simulator", "simulate", "--case-id", case_id,
                       "--client-id", carrier.json()["client_id"], "--client-secret", carrier.json()["client_secret"],
                       "--scenario", "delivered", "--speed", "1000000", "--duplicates", "0.5", "--seed", "4"]
            ran = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
            assert ran.returncode == 0, ran.stderr
            summary = json.loads(ran.stdout)
            assert summary["refused"] == 0 and summary["duplicates"] >= 1 and summary["failed_requests"] == 0
            result = next(w for w in (await http.get(base["delivery"] + "/v1/waybills",
                                                     params={"case_id": case_id})).json() if w["flow"] == "result")
            assert summary["statuses"][result["number"]] == "delivered"
            assert summary["statuses"][numbers[0]] == "returned", "a journey on a returned item changes nothing"
    finally:
        proc.terminate()
        proc.wait(15)
