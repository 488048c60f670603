"""The national suite end to end on Kafka and PostgreSQL, services as processes (issue 19's "done means").

A whole accepted-here-handled-there case (catalogue, routing and authorization as processes; the
owner takes the posted papers in by hand, without the delivery service) runs with SM2 keys
everywhere: the agreement is signed with SM2, routing's delegation check verifies it, the
acceptance attestation is an SM2SM3 JWS that the OpenSSL command line verifies, tokens are
SM2-signed and verified by every service against the JWKS, and the audit chain is linked with SM3
and checkpointed with SM2. A second test migrates an international deployment by rotating keys:
what the old Ed25519 keys signed still verifies, and an agreement signed by Yangpu with SM2 and by
Bozhou with Ed25519 activates and delegates.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from services.authorization.domain import ISSUER
from services.authorization.service import Keyring
from shared.crypto import b64url, b64url_decode, read_compact, sm2_signature_to_der
from shared.service import standalone
from shared.settings import Settings
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tests.integration.test_authorization import _execute
from tests.support.flows import ITEM, MATERIALS, advance
from tongban.registry import definition
from tongban.testbed.agreements import activate, draft, sign
from tongban.testbed.infra import PostgresServer
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.processes import ServiceProcess

Y, S, B = "310110", "320505", "341600"
NATIONAL = {"TONGBAN_CRYPTO_SUITE": "national"}


async def _jwks(system: System) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as http:
        document = (await http.get(system.url("authorization") + "/.well-known/jwks.json")).json()
    return {k["kid"]: k for k in document["keys"]}


def _openssl_verifies(jws: str, jwk: dict[str, Any], folder: Path) -> bool:
    """``openssl pkeyutl -verify -rawin -digest sm3`` over the JWS signing input, with the JWK's key."""
    _header, _payload, signing_input, signature = read_compact(jws)
    point = b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200") + point
    (folder / "pub.pem").write_bytes(b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(spki)
                                     + b"-----END PUBLIC KEY-----\n")
    (folder / "input").write_bytes(signing_input)
    (folder / "sig").write_bytes(sm2_signature_to_der(signature))
    binary = shutil.which("openssl")
    assert binary, "the openssl command line is needed"
    done = subprocess.run([binary, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey",
                           folder / "pub.pem", "-in", folder / "input", "-sigfile", folder / "sig",
                           "-pkeyopt", "distid:1234567812345678"], capture_output=True, timeout=30)
    return done.returncode == 0


def _with_alg(jws: str, alg: str) -> str:
    """The same payload and signature under a header naming ``alg``."""
    header = json.loads(b64url_decode(jws.split(".")[0]))
    return ".".join([b64url(json.dumps({**header, "alg": alg}).encode()), *jws.split(".")[1:]])


async def _with_catalogue(system: System, postgres: PostgresServer, tmp_path: Path) -> None:
    """Start the catalogue where routing expects it, with a generous timeout (it loads the first list)."""
    routing = system.services["routing"]
    port = int(routing.env["TONGBAN_CATALOGUE_URL"].rsplit(":", 1)[1])
    url = await postgres.create_database("cata")
    system.database_urls["catalogue"] = url
    process = ServiceProcess("catalogue", port, {**routing.env, "TONGBAN_DATABASE_URL": url},
                             tmp_path / "catalogue.log")
    system.services["catalogue"] = process
    await asyncio.to_thread(process.start, True, 300)


async def test_a_whole_case_with_the_national_suite(start_system: SystemFactory, postgres: PostgresServer,
                                                    tmp_path: Path) -> None:
    system = await start_system("routing", env=NATIONAL)
    await _with_catalogue(system, postgres, tmp_path)
    keys = await _jwks(system)
    assert keys and all((k["kty"], k["crv"], k["alg"]) == ("EC", "SM2", "SM2SM3") for k in keys.values())
    agreement = await activate(system, [S, B])
    assert {s["kid"].split("-k-")[0] for s in agreement["signatures"]} == {S, B}
    suzhou, bozhou = await system.headers(S), await system.headers(B)
    token_header = json.loads(b64url_decode(suzhou["Authorization"].split()[1].split(".")[0]))
    assert token_header["alg"] == "SM2SM3" and keys[token_header["kid"]]["tongban_use"] == "token"
    catalogue, routing, auth = system.url("catalogue"), system.url("routing"), system.url("authorization")
    async with httpx.AsyncClient(timeout=15, headers=suzhou) as http:
        assert (await http.post(f"{catalogue}/v1/items", json=ITEM,
                                headers=await system.headers(REGIONAL))).status_code == 201
        assert (await http.post(f"{catalogue}/v1/items/{ITEM['code']}/publish",
                                   headers=await system.headers(REGIONAL))).status_code == 200
        submission = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there",
                      "ownership": {"insured_place": [B]}, "applicant_id": "11010519491231002X",
                      "materials": [{"name": f"材料 {i}", "form": "electronic", "sha256": h}
                                    for i, h in enumerate(MATERIALS)]}
        created: list[httpx.Response] = []

        async def submitted() -> bool:  # routing's delegation check verifies the SM2-signed agreement
            created.append(await http.post(f"{routing}/v1/cases", json=submission))
            return created[-1].status_code == 201

        await wait_for(submitted, timeout=30, interval=0.3)
        case_id = created[-1].json()["id"]
        await advance(http, routing, case_id, "accept", "accepted")
        attestation_id = (await http.get(f"{routing}/v1/cases/{case_id}")).json()["attestation_id"]
        stored = await http.get(system.url("authorization") + f"/v1/attestations/{attestation_id}")
        assert stored.status_code == 200, stored.text
        attestation = stored.json()["jws"]
        header = json.loads(b64url_decode(attestation.split(".")[0]))
        assert header["alg"] == "SM2SM3" and keys[header["kid"]]["tongban_owner"] == S
        assert _openssl_verifies(attestation, keys[header["kid"]], tmp_path)
        verify_url = system.url("authorization") + "/v1/attestations/verify"
        verified = (await http.post(verify_url, json={"jws": attestation}, headers=bozhou)).json()
        assert verified["valid"] and verified["issuer"] == S
        confused = (await http.post(verify_url, json={"jws": _with_alg(attestation, "EdDSA")}, headers=bozhou)).json()
        assert not confused["valid"] and "names alg 'EdDSA' but its key is SM2" in confused["reason"]

        # The owner receives the posted papers and handles the case; the result is delivered, then closed.
        await advance(http, routing, case_id, "forward", "forwarded")
        received = await http.post(f"{routing}/v1/cases/{case_id}/transitions", headers=bozhou,
                                   json={"action": "receive", "material_hashes": MATERIALS,
                                         "handover_reason": "由苏州窗口专人送达"})
        assert received.status_code == 200, received.text
        for action, reached in (("start_review", "under_review"), ("approve", "approved"),
                                ("issue_result", "result_issued"), ("deliver_result", "result_delivered")):
            await advance(http, routing, case_id, action, reached, bozhou)
        closed = await http.post(f"{routing}/v1/cases/{case_id}/transitions", json={"action": "close"})
        assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text

        # A token whose header names EdDSA over the SM2 issuer key is refused by every service.
        forged = _with_alg(suzhou["Authorization"].split()[1], "EdDSA")
        for url in (f"{routing}/v1/cases/{case_id}", f"{catalogue}/v1/items", f"{auth}/v1/keys"):
            refused = await http.get(url, headers={"Authorization": f"Bearer {forged}"})
            assert refused.status_code == 401 and "must be signed with SM2SM3" in refused.json()["detail"]

        # The audit chain is linked with SM3 and verifies; a checkpoint is signed with SM2.

        async def chained() -> bool:
            return bool((await http.get(auth + "/v1/audit/verify")).json()["unchained"] == 0)

        await wait_for(chained, timeout=30)
        audit = (await http.get(auth + "/v1/audit/verify")).json()
        assert audit["intact"] and audit["checked"] > 5, audit
        kinds = await _execute(system.database_urls["authorization"], "SELECT DISTINCT hash_alg FROM audit_log")
        assert [k[0] for k in kinds] == ["sm3"]
        checkpoint = await http.post(auth + "/v1/audit/checkpoints")
        assert checkpoint.status_code == 201
        cp_header = json.loads(b64url_decode(checkpoint.json()["jws"].split(".")[0]))
        assert cp_header["alg"] == "SM2SM3" and _openssl_verifies(checkpoint.json()["jws"], keys[cp_header["kid"]],
                                                                   tmp_path)


async def test_migration_by_rotation_and_a_mixed_agreement(start_system: SystemFactory) -> None:
    system = await start_system("routing")
    auth = system.url("authorization")
    old = await activate(system, [Y, B])  # both Ed25519, under the international suite
    authorization = system.services["authorization"]
    authorization.stop()
    authorization.env.update(NATIONAL)
    authorization.start()
    async with httpx.AsyncClient(timeout=10) as http:
        rotated = await http.post(auth + f"/v1/localities/{Y}/keys/rotate", headers=await system.headers(Y))
        assert rotated.status_code == 200, rotated.text
        keys = await _jwks(system)
        assert keys[rotated.json()[0]["kid"]]["crv"] == "SM2"
        assert keys[rotated.json()[1]["kid"]]["crv"] == "Ed25519"
        assert keys[rotated.json()[1]["kid"]]["tongban_status"] == "retired"
        fault = (await http.get(auth + f"/v1/agreements/{old['id']}", headers=await system.headers(B))).json()
        assert fault["fault"] is None  # the retired Ed25519 key still verifies what it signed

        mixed = await draft(system, [Y, B], [(Y, B, ["fully_online"]), (B, Y, ["fully_online"])])
        for party in (Y, B):
            assert (await sign(system, mixed, party)).status_code == 201
        got = (await http.get(auth + f"/v1/agreements/{mixed['id']}", headers=await system.headers(B))).json()
        assert got["status"] == "active" and got["fault"] is None
        algs = {s["party"]: keys.get(s["kid"], {}).get("crv") for s in got["signatures"]}
        assert algs == {Y: "SM2", B: "Ed25519"}
        check = await http.get(auth + "/v1/delegations/check", headers=await system.headers(Y), params={
            "acceptor": Y, "owner": B, "item": "YRD-SB-0001", "area": "social_security", "mode": "fully_online"})
        assert check.json()["allowed"] and check.json()["agreement_id"] in (old["id"], mixed["id"])

        # An operator rotates the issuer's key: tokens are SM2-signed from now on, and routing (a
        # separate process) verifies them against the JWKS; an Ed25519 token issued before still verifies.
        before = await system.token(B)
        env = authorization.env
        settings = Settings.model_validate({k[len("TONGBAN_"):].lower(): v for k, v in env.items()
                                            if k != "TONGBAN_DATABASE_URL"})
        async with standalone(definition("authorization"), settings, env["TONGBAN_DATABASE_URL"]) as ctx, \
                ctx.uow() as uow:
            new_key, _retired = await Keyring(ctx.keys, settings.crypto_suite).rotate(uow.session, ISSUER)
            await uow.commit()
        assert new_key.algorithm.value == "SM2"
        response = await http.post(auth + "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": system.credentials[S]["client_id"],
            "client_secret": system.credentials[S]["client_secret"]})
        after = response.json()["access_token"]
        assert json.loads(b64url_decode(after.split(".")[0]))["alg"] == "SM2SM3"
        case = system.url("routing") + "/v1/cases/00000000-0000-0000-0000-000000000000"
        for token in (after, before):
            answer = await http.get(case, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 404, answer.text  # authenticated; no such case
        forged = _with_alg(after, "EdDSA")
        refused = await http.get(case, headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401 and "must be signed with SM2SM3" in refused.json()["detail"]
