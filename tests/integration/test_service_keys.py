"""Keys per service and purpose (issue 18, items 9 and 10) against the real services.

Each key rotates alone: a carrier's HMAC secret without touching the rest, the seal of the private
signing keys with the old seals still opening. The embedded system generates its keys (one folder
per service) and keeps its data folder for its owner: 0700, every file 0600.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services.delivery.domain import sign
from tests.integration.conftest import System, SystemFactory
from tongban.testbed.infra import REPO
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.keys import known_key
from tongban.testbed.processes import port_offset
from tongban.testbed.world import query

SUZHOU = "320505"
EMPTY = json.dumps({"events": []}).encode()


CARRIER_TOKENS: dict[int, str] = {}


async def carrier_token(system: System) -> str:
    """A token of a carrier client that Suzhou's maintainer registers (once per system)."""
    if id(system) not in CARRIER_TOKENS:
        async with httpx.AsyncClient(timeout=10, headers=await system.headers(SUZHOU)) as http:
            response = await http.post(system.url("authorization") + "/v1/clients",
                                       json={"locality": SUZHOU, "name": "EMS", "roles": ["carrier"]})
            assert response.status_code == 201, response.text
            issued = response.json()
            answer = await http.post(system.url("authorization") + "/oauth/token", headers={}, data={
                "grant_type": "client_credentials", "client_id": issued["client_id"],
                "client_secret": issued["client_secret"]})
        assert answer.status_code == 200, answer.text
        CARRIER_TOKENS[id(system)] = str(answer.json()["access_token"])
    return CARRIER_TOKENS[id(system)]


async def webhook(system: System, secret: bytes, carrier: str = "ems") -> int:
    """The status of a signed (empty) carrier batch: 401 when the signature is refused."""
    stamp = str(int(time.time()))
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(system.url("delivery") + "/v1/carrier/events", content=EMPTY, headers={
            "Authorization": f"Bearer {await carrier_token(system)}", "Content-Type": "application/json",
            "X-Tongban-Timestamp": stamp, "X-Tongban-Carrier": carrier,
            "X-Tongban-Signature": sign(secret, stamp, EMPTY)})
    return response.status_code


def restart(system: System, service: str) -> None:
    system.services[service].stop()
    system.services[service].start()


def add_version(path: Path, line: str, keep_old: bool = True) -> None:
    path.write_text((path.read_text() if keep_old else "") + line + "\n")


async def test_each_key_rotates_alone(start_system: SystemFactory) -> None:
    system = await start_system("delivery")
    keys_root = Path(system.services["delivery"].env["TONGBAN_KEYS_DIR"]).parent
    ems_v1, ems_v2 = known_key("delivery", "carrier-hmac-ems"), known_key("delivery", "carrier-hmac-ems", "t2")
    cnpost = known_key("delivery", "carrier-hmac-cnpost")
    assert await webhook(system, ems_v1) != 401
    assert await webhook(system, b"another secret") == 401

    # A carrier's secret: a second version, both accepted while the carrier moves over, then the old one gone.
    before = {p: p.read_bytes() for p in keys_root.glob("*/*") if p.name != "carrier-hmac-ems"}
    add_version(keys_root / "delivery" / "carrier-hmac-ems", f"t2:{ems_v2.hex()}")
    restart(system, "delivery")
    assert await webhook(system, ems_v2) != 401 and await webhook(system, ems_v1) != 401
    add_version(keys_root / "delivery" / "carrier-hmac-ems", f"t2:{ems_v2.hex()}", keep_old=False)
    restart(system, "delivery")
    assert await webhook(system, ems_v1) == 401 and await webhook(system, ems_v2) != 401
    assert await webhook(system, cnpost, "cnpost") != 401, "the other carrier's secret did not change"
    assert {p: p.read_bytes() for p in keys_root.glob("*/*") if p.name != "carrier-hmac-ems"} == before

    # The seal of the signing keys: at the next start every private key is sealed under t2 (new ones too),
    # so the old version can go; tokens are still issued after it went.
    seal = keys_root / "authorization" / "signing-key-seal"
    add_version(seal, f"t2:{known_key('authorization', 'signing-key-seal', 't2').hex()}")
    restart(system, "authorization")
    system._tokens.clear()
    async with httpx.AsyncClient(timeout=10, headers=await system.headers(SUZHOU)) as http:
        rotated = await http.post(system.url("authorization") + f"/v1/localities/{SUZHOU}/keys/rotate")
        assert rotated.status_code in (200, 201), rotated.text
    seals = await query(system.database_urls["authorization"], "SELECT kid, sealed_private FROM signing_keys")
    assert len(seals) >= 6 and all(bytes(s).startswith(b"TBS2\x07A256GCM\x02t2") for _kid, s in seals), seals
    add_version(seal, f"t2:{known_key('authorization', 'signing-key-seal', 't2').hex()}", keep_old=False)
    restart(system, "authorization")
    system._tokens.clear()
    CARRIER_TOKENS.clear()
    assert await webhook(system, ems_v2) != 401, "tokens are signed and verified without the old seal version"


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root.parent)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


async def test_embedded_data_folder_is_private_and_keys_are_generated_per_service(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "notes.txt").write_text("from an older installation")
    (data / "notes.txt").chmod(0o644)
    offset = port_offset()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update({"TONGBAN_DATA_DIR": str(data), "TONGBAN_PORT_OFFSET": str(offset)})
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tongban.cli", "up"], cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        await wait_for(lambda: "client_secret=" in log_path.read_text(errors="replace") or proc.poll() is not None,
                       timeout=90, interval=0.3)
        assert proc.poll() is None, log_path.read_text()
        modes = _modes(data)
        folders = {p: m for p, m in modes.items() if (tmp_path / p).is_dir()}
        files = {p: m for p, m in modes.items() if not (tmp_path / p).is_dir()}
        assert all(m == 0o700 for m in folders.values()), folders
        assert all(m == 0o600 for m in files.values()), files
        assert any(p.endswith("routing.db-wal") for p in files), files
        generated = {p.parent.name: set() for p in (data / "keys").glob("*/*")}
        for p in (data / "keys").glob("*/*"):
            generated[p.parent.name].add(p.name)
        assert generated == {"authorization": {"signing-key-seal"},
                             "routing": {"applicant-hash", "reason-seal", "file-seal", "applicant-seal"},
                             "delivery": {"personal-data", "carrier-hmac-ems", "carrier-hmac-cnpost"},
                             "webhooks": {"secret-seal"}}, generated
        secrets = {p.read_text().split(":")[-1].strip() for p in (data / "keys").glob("*/*")}
        assert len(secrets) == sum(len(names) for names in generated.values()), "every key is its own random value"
        printed = log_path.read_text(errors="replace")
        assert not any(s in printed for s in secrets), "a key was logged"
    finally:
        proc.terminate()
        proc.wait(30)
