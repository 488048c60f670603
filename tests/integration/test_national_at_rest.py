"""The national suite at rest, on Kafka, PostgreSQL and SeaweedFS with every service as a process (issue 19).

With ``TONGBAN_CRYPTO_SUITE=national`` a posted case runs through the delivery service and the
simulated carrier (SM2 tokens everywhere), and the waybills' names, phones and addresses are sealed
with SM4-GCM in delivery's database; the private signing keys are sealed with SM4-GCM; a
fully-online case's scans are SM4-GCM in the object store, with SM3 recorded beside SHA-256 in the
file's row, its view, its download audit and its event, and a declared SM3 checked at upload and
signed into the SM2 attestation. Each stored record is opened here with the test's copy of the key
and the cipher the record names. A deployment that switches from the international suite keeps
reading what it sealed with AES-256-GCM, and seals addresses and private keys again with SM4-GCM at
the next start.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.routing.files.crypto import Sealing, cipher_range, open_range
from shared.contracts.routing import CaseForwarded
from shared.crypto import AeadName, b64url_decode, derive_key, hexdigest
from shared.envelope import Envelope, Record
from shared.keys import Key, KeySet
from shared.sealing import open_json, sealed_with
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tests.integration.test_authorization import _execute
from tests.support.flows import posted_case_flow
from tests.support.objects import bucket_objects, jpeg, object_bytes, pdf
from tongban.testbed.infra import SeaweedFS
from tongban.testbed.kafka_io import produce_raw, wait_for
from tongban.testbed.keys import known_key

S, B = "320505", "341600"
NATIONAL = {"TONGBAN_CRYPTO_SUITE": "national"}
ITEM = {"code": "YRD-DA-0902", "name_zh": "不动产登记资料查询", "name_en": "Real estate register query",
        "area": "archive_query", "modes": ["fully_online"], "ownership_rule": "property_location",
        "committed_days": 5}


def sha(data: bytes) -> str:
    return hexdigest("sha256", data)


def sm3(data: bytes) -> str:
    return hexdigest("sm3", data)


def _text(value: Any) -> str:
    """A JSON column's value as read with plain SQL (a JSON string on PostgreSQL)."""
    return json.loads(value) if isinstance(value, str) and value.startswith('"') else str(value)


async def _sealed_at_rest_in_delivery(system: System, cipher: AeadName = AeadName.SM4_GCM) -> set[str]:
    """Every address of every waybill names ``cipher`` and opens with delivery's personal-data key; the flows."""
    keys = KeySet("personal-data", (Key("t1", known_key("delivery", "personal-data")),))
    rows = await _execute(system.database_urls["delivery"],
                          "SELECT number, flow, sender_address, receiver_address FROM waybills")
    for number, _flow, *addresses in rows:
        for side, value in zip(("sender", "receiver"), addresses, strict=True):
            sealed = _text(value)
            assert sealed_with(sealed) == (cipher, "t1"), sealed[:20]
            address = open_json(keys, sealed, f"waybill:{number}:{side}")
            assert address["postcode"].isdigit() and address["phone"] not in sealed
    return {r[1] for r in rows}


async def _signing_keys_sealed_with(system: System, magic: bytes) -> None:
    seals = await _execute(system.database_urls["authorization"], "SELECT sealed_private FROM signing_keys")
    assert seals and all(bytes(s[0]).startswith(magic) for s in seals), [bytes(s[0])[:14] for s in seals]


async def _case(http: httpx.AsyncClient, system: System, scans: dict[str, bytes], declared: dict[str, str]) -> str:
    """A fully-online case accepted at Suzhou's window for Bozhou, its scans declared (some with SM3)."""
    regional = await system.headers(REGIONAL)
    catalogue, routing = system.url("catalogue"), system.url("routing")
    assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
    assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
    body = {"item_code": ITEM["code"], "mode": "fully_online", "applicant_id": "11010519491231002X",
            "ownership": {"property_location": ["341602"]},
            "materials": [{"name": n, "form": "electronic", "sha256": sha(d),
                           **({"sm3": declared[n]} if n in declared else {})} for n, d in scans.items()]}
    created = await http.post(routing + "/v1/cases", json=body)
    assert created.status_code == 201, created.text
    case_id: str = created.json()["id"]
    accepted = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "accept"})
    assert accepted.status_code == 200, accepted.text
    return case_id


async def _stored_object_opens_with_sm4(seaweedfs: SeaweedFS, bucket: str, system: System, file_id: str,
                                        data: bytes) -> None:
    """The object of a file is SM4-GCM (header and row say so) and opens with routing's file-seal key."""
    rows = await _execute(system.database_urls["routing"], "SELECT object_key, cipher, sm3, sha256, key_id, "
                          "wrapped_key, nonce_prefix, header_length, size FROM case_files WHERE id = :i", i=file_id)
    key, cipher, row_sm3, row_sha, key_id, wrapped, prefix, header_length, size = rows[0]
    assert (cipher, row_sm3, row_sha) == ("SM4GCM", sm3(data), sha(data))
    raw = await object_bytes(seaweedfs, bucket, key)
    assert raw.startswith(b"TBF2\x06SM4GCM\x02t1") and data[:4096] not in raw
    sealing = Sealing(key_id, bytes(wrapped), bytes(prefix), header_length, AeadName(cipher))

    def key_of(version: str, name: AeadName) -> bytes:
        assert (version, name) == ("t1", AeadName.SM4_GCM)
        return derive_key(name, known_key("routing", "file-seal"), "tongban-case-files-v1")

    async def stored() -> AsyncIterator[bytes]:
        _first, lo, hi = cipher_range(size, header_length, 0, size - 1)
        yield raw[lo:hi + 1]

    assert b"".join([p async for p in open_range(stored(), file_id, size, sealing, key_of, 0, size - 1)]) == data


async def test_delivery_and_case_files_are_sm4_at_rest(start_system: SystemFactory, seaweedfs: SeaweedFS) -> None:
    bucket = f"tongban-national-{uuid.uuid4().hex[:8]}"
    system = await start_system(env={**NATIONAL, **seaweedfs.service_env(bucket)})

    # A posted case through delivery and the carrier, every token SM2; its waybills sealed with SM4-GCM.
    await posted_case_flow(system)
    assert await _sealed_at_rest_in_delivery(system) == {"materials", "result"}
    await _signing_keys_sealed_with(system, b"TBS2\x06SM4GCM\x02t1")

    # A fully-online case's scans: SM4-GCM in the store, SM3 beside SHA-256 everywhere the file is named.
    scans = {"不动产权证书": pdf(300 * 1024), "身份证正反面": jpeg(150 * 1024), "委托书": pdf(20 * 1024)}
    wrong = sm3(b"another file")
    suzhou, bozhou = await system.headers(S), await system.headers(B)
    async with httpx.AsyncClient(timeout=60, headers=suzhou) as http:
        case_id = await _case(http, system, scans, {"不动产权证书": sm3(scans["不动产权证书"]), "委托书": wrong})
        case = (await http.get(system.url("routing") + f"/v1/cases/{case_id}")).json()
        attestation = (await http.get(system.url("authorization") + f"/v1/attestations/{case['attestation_id']}"))
        payload = json.loads(b64url_decode(attestation.json()["jws"].split(".")[1]))
        assert json.loads(b64url_decode(attestation.json()["jws"].split(".")[0]))["alg"] == "SM2SM3"
        assert {m["name"]: m.get("sm3") for m in payload["materials"]} == {
            "不动产权证书": sm3(scans["不动产权证书"]), "身份证正反面": None, "委托书": wrong}

        files_url = system.url("routing") + f"/v1/cases/{case_id}/files"
        views: dict[str, dict[str, Any]] = {}
        for name in ("不动产权证书", "身份证正反面"):
            added = await http.put(f"{files_url}/{sha(scans[name])}", params={"name": f"{name}.pdf"},
                                   content=scans[name], headers={"Content-Type": "application/octet-stream"})
            assert added.status_code == 201, added.text
            views[name] = added.json()
            assert (views[name]["cipher"], views[name]["sm3"]) == ("SM4GCM", sm3(scans[name]))
        refused = await http.put(f"{files_url}/{sha(scans['委托书'])}", content=scans["委托书"],
                                 headers={"Content-Type": "application/octet-stream"})
        assert refused.status_code == 422 and refused.json()["declared"] == wrong, refused.text
        assert refused.json()["received"] == sm3(scans["委托书"])
        assert len(await bucket_objects(seaweedfs, bucket)) == 2, "nothing of the refused file was kept"
        for name in views:
            await _stored_object_opens_with_sm4(seaweedfs, bucket, system, views[name]["id"], scans[name])

        listing = (await http.get(files_url, headers=bozhou)).json()
        assert {f["sha256"]: (f["sm3"], f["cipher"]) for f in listing["files"]} == {
            sha(scans[n]): (sm3(scans[n]), "SM4GCM") for n in views}
        got = await http.get(f"{files_url}/{sha(scans['不动产权证书'])}", headers=bozhou)
        assert got.status_code == 200 and got.content == scans["不动产权证书"]
        audit = (await http.get(f"{files_url}/downloads", headers=bozhou)).json()["downloads"]
        assert [(d["locality"], d["sha256"], d["sm3"]) for d in audit] == [
            (B, sha(scans["不动产权证书"]), sm3(scans["不动产权证书"]))]

    # The files' events carry SM3 beside SHA-256 on the owner's topic.
    def arrived(records: list[Record]) -> bool:
        return sum(1 for r in records if r.key == case_id.encode()
                   and r.header("ce_type") == "cn.tongban.routing.case.material_added.v1") == 2

    records = await system.read_locality_topic(B, until=arrived)
    added_events = [json.loads(r.value) for r in records if r.key == case_id.encode()
                    and r.header("ce_type") == "cn.tongban.routing.case.material_added.v1"]
    assert sorted((e["sha256"], e["sm3"]) for e in added_events) == sorted(
        (sha(scans[n]), sm3(scans[n])) for n in views)


async def test_a_switch_of_suite_keeps_reading_and_seals_again_with_sm4(start_system: SystemFactory) -> None:
    system = await start_system("delivery")
    suzhou = await system.headers(S)

    async def forwarded(case_id: str) -> dict[str, Any]:
        event = CaseForwarded(case_id=case_id, accepting_locality=S, owning_locality=B, material_hashes=["a" * 64])
        record = Envelope.wrap(event, "/tongban/routing").to_record(system.topic(S))
        await produce_raw(system.kafka.bootstrap, record.topic, record.value, record.key, list(record.headers))
        found: list[dict[str, Any]] = []

        async def waybill() -> bool:
            async with httpx.AsyncClient(timeout=10, headers=suzhou) as http:
                found[:] = (await http.get(system.url("delivery") + "/v1/waybills", params={"case_id": case_id})
                            ).json()
            return bool(found)

        await wait_for(waybill, timeout=30)
        return found[0]

    before = await forwarded("case-switch-1")
    await _sealed_at_rest_in_delivery(system, AeadName.AES_256_GCM)
    await _signing_keys_sealed_with(system, b"TBS2\x07A256GCM\x02t1")

    for name in ("authorization", "delivery"):  # the operator switches the suite and restarts
        system.services[name].stop()
        system.services[name].env.update(NATIONAL)
        system.services[name].start()
    await _sealed_at_rest_in_delivery(system)  # sealed again with SM4-GCM at the start
    await _signing_keys_sealed_with(system, b"TBS2\x06SM4GCM\x02t1")
    async with httpx.AsyncClient(timeout=10, headers=suzhou) as http:
        again = (await http.get(system.url("delivery") + f"/v1/waybills/{before['number']}")).json()
    assert again["receiver_address"] == before["receiver_address"] and again["sender_address"]
    await forwarded("case-switch-2")
    await _sealed_at_rest_in_delivery(system)
