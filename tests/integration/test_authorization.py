"""Trust between localities, on real processes, Kafka and PostgreSQL (issue 3's "done means")."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk, jws
from sqlalchemy import text

from services.authorization import crypto
from shared.db import create_engine
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import draft, sign
from tongban.testbed.infra import REPO
from tongban.testbed.kafka_io import read_topic, wait_for
from tongban.testbed.keys import known_key

Y, S, T, B = "310110", "320505", "331000", "341600"
ITEM = {"code": "YRD-SB-0003", "name_zh": "失业登记", "name_en": "Unemployment registration",
        "area": "social_security", "modes": ["accepted_here_handled_there", "fully_online"],
        "ownership_rule": "insured_place", "committed_days": 5}


async def _execute(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_four_localities_sign_remotely_and_a_case_outside_is_refused(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    auth = system.url("authorization")
    agreement = await draft(system, [Y, S, T, B], [(S, B, ["accepted_here_handled_there"])],
                            areas=["social_security"], title="四地合作协议")
    async with httpx.AsyncClient(timeout=10) as http:
        async def check(acceptor: str, owner: str, mode: str = "accepted_here_handled_there") -> dict[str, Any]:
            response = await http.get(auth + "/v1/delegations/check", headers=await system.headers(acceptor),
                                      params={"acceptor": acceptor, "owner": owner, "item": "YRD-SB-0003",
                                              "area": "social_security", "mode": mode})
            assert response.status_code == 200, response.text
            result: dict[str, Any] = response.json()
            return result

        for n, party in enumerate([Y, S, T, B], start=1):
            assert not (await check(S, B))["allowed"]
            signed = await sign(system, agreement, party)
            assert signed.status_code == 201, signed.text
            assert signed.json()["status"] == ("active" if n == 4 else "draft")
        allowed = await check(S, B)
        assert allowed == {"allowed": True, "reason": f"receive_accept allowed by agreement {agreement['id']}",
                           "agreement_id": agreement["id"]}
        assert "does not let 341600 accept for 320505" in (await check(B, S))["reason"]
        assert "does not allow mode fully_online" in (await check(S, B, "fully_online"))["reason"]
        # A signature over a canonical form the party did not review is refused.
        stale = await http.post(auth + f"/v1/agreements/{agreement['id']}/signatures",
                                json={"canonical_sha256": "0" * 64}, headers=await system.headers(Y))
        assert stale.status_code == 409
        # Another locality's client cannot sign for a party, nor see a stranger's agreement.
        fifth = await http.get(auth + f"/v1/agreements/{agreement['id']}", headers=await system.headers(Y))
        assert fifth.status_code == 200 and fifth.json()["fault"] is None

        maintainer = await system.headers(REGIONAL)  # the joint office's catalogue desk
        created = await http.post(system.url("catalogue") + "/v1/items", json=ITEM, headers=maintainer)
        assert created.status_code == 201
        assert (await http.post(system.url("catalogue") + "/v1/items/YRD-SB-0003/publish",
                                headers=maintainer)).status_code == 200

        async def submit(headers: dict[str, str], owner: str, mode: str) -> httpx.Response:
            body = {"item_code": "YRD-SB-0003", "mode": mode, "ownership": {"insured_place": [owner]},
                    "applicant_id": "11010519491231002X"}
            return await http.post(system.url("routing") + "/v1/cases", json=body, headers=headers)

        await wait_for(lambda: _known(http, system, submit), timeout=30, interval=0.3)
        inside = await submit(await system.headers(S), B, "accepted_here_handled_there")
        assert inside.status_code == 201, inside.text
        outside = await submit(await system.headers(T), Y, "accepted_here_handled_there")
        assert outside.status_code == 403
        assert outside.json()["type"].endswith("no-delegation")
        assert "does not let 331000 accept for 310110" in outside.json()["detail"]

        # Every change was an event on every party's topic.
        for party in (Y, S, T, B):
            records = await read_topic(system.kafka.bootstrap, system.topic(party), until=lambda rs: sum(
                r.header("ce_type") == "cn.tongban.authorization.agreement.changed.v1" for r in rs) >= 6)
            changes = [json.loads(r.value)["change"] for r in records
                       if r.header("ce_type") == "cn.tongban.authorization.agreement.changed.v1"]
            assert changes == ["drafted", "signed", "signed", "signed", "signed", "activated"]


async def _known(http: httpx.AsyncClient, system: System, submit: Any) -> bool:
    response = await submit(await system.headers(S), B, "accepted_here_handled_there")
    if response.status_code == 201:
        await http.post(system.url("routing") + f"/v1/cases/{response.json()['id']}/transitions",
                        json={"action": "withdraw"}, headers=await system.headers(S))
    return bool(response.status_code == 201)


async def test_tampering_retired_and_foreign_keys_break_an_agreement(start_system: SystemFactory) -> None:
    system = await start_system("authorization")
    auth, db = system.url("authorization"), system.database_urls["authorization"]
    agreement = await draft(system, [S, B], [(S, B, ["fully_online"])])
    for party in (S, B):
        assert (await sign(system, agreement, party)).status_code == 201
    async with httpx.AsyncClient(timeout=10) as http:
        async def fault() -> str | None:
            response = await http.get(auth + f"/v1/agreements/{agreement['id']}", headers=await system.headers(S))
            value: str | None = response.json()["fault"]
            return value

        assert await fault() is None
        # Rotating Suzhou's key retires the old one: what it signed before still verifies.
        rotated = await http.post(auth + f"/v1/localities/{S}/keys/rotate", headers=await system.headers(S))
        assert rotated.status_code == 200
        new_kid, old_kid = rotated.json()[0]["kid"], rotated.json()[1]["kid"]
        assert await fault() is None
        # Another locality cannot rotate or revoke Suzhou's keys.
        assert (await http.post(auth + f"/v1/localities/{S}/keys/rotate",
                                headers=await system.headers(B))).status_code == 403
        assert (await http.post(auth + f"/v1/keys/{old_kid}/revoke",
                                headers=await system.headers(B))).status_code == 404
        # Revoking the retired key voids its signatures: the agreement no longer verifies, nor delegates.
        assert (await http.post(auth + f"/v1/keys/{new_kid}/revoke",
                                headers=await system.headers(S))).status_code == 409  # active: rotate first
        assert (await http.post(auth + f"/v1/keys/{old_kid}/revoke",
                                headers=await system.headers(S))).status_code == 200
        assert f"signature of {S}: signed with key {old_kid}, which is revoked" == await fault()
        denied = await http.get(auth + "/v1/delegations/check", headers=await system.headers(S), params={
            "acceptor": S, "owner": B, "item": "YRD-SB-0001", "area": "social_security", "mode": "fully_online"})
        assert not denied.json()["allowed"] and "does not verify" in denied.json()["reason"]

        second = await draft(system, [S, B], [(S, B, ["fully_online"])])
        for party in (S, B):
            assert (await sign(system, second, party)).status_code == 201
        rows = await _execute(db, "SELECT signatures FROM agreements WHERE id = :id", id=second["id"])
        signatures = rows[0][0] if isinstance(rows[0][0], list) else json.loads(rows[0][0])
        # A signature claimed by Suzhou but made with Bozhou's key is refused.
        forged = [dict(signatures[0], jws=signatures[1]["jws"], kid=signatures[1]["kid"]), signatures[1]]
        await _execute(db, "UPDATE agreements SET signatures = CAST(:s AS JSON) WHERE id = :id",
                       s=json.dumps(forged), id=second["id"])
        response = await http.get(auth + f"/v1/agreements/{second['id']}", headers=await system.headers(S))
        assert response.json()["fault"] == f"signature of {S}: signed with a key of {B}, not of {S}"
        # A tampered text no longer matches what the parties signed.
        await _execute(db, "UPDATE agreements SET signatures = CAST(:s AS JSON), text = 'tampered' WHERE id = :id",
                       s=json.dumps(signatures), id=second["id"])
        response = await http.get(auth + f"/v1/agreements/{second['id']}", headers=await system.headers(B))
        assert response.json()["fault"].endswith("the agreement was changed after it was signed")


async def test_attestation_verifies_offline_with_an_independent_jose_library(start_system: SystemFactory) -> None:
    system = await start_system("authorization")
    auth = system.url("authorization")
    body = {"case_id": str(uuid.uuid4()), "item_code": "YRD-SB-0001", "mode": "accepted_here_handled_there",
            "owners": [B], "clerk": "窗口 07 / clerk 07",
            "materials": [{"name": "身份证", "sha256": "ab" * 32, "form": "electronic"},
                          {"name": "申请表", "form": "paper"}],
            "accepted_at": datetime.now(UTC).isoformat()}
    async with httpx.AsyncClient(timeout=10) as http:
        issued = await http.post(auth + "/v1/attestations", json=body, headers=await system.headers(S))
        assert issued.status_code == 201, issued.text
        token = issued.json()["jws"]
        keys = (await http.get(auth + "/.well-known/jwks.json")).json()  # public: no token needed
        # Offline, with jwcrypto (not the library that signed): find the key by kid and verify.
        header = json.loads(crypto.b64url_decode(token.split(".")[0]))
        key = next(k for k in keys["keys"] if k["kid"] == header["kid"])
        assert key["tongban_owner"] == S
        checker = jws.JWS()
        checker.deserialize(token)
        checker.verify(jwk.JWK(**{k: key[k] for k in ("kty", "crv", "x", "kid")}))
        claims = json.loads(checker.payload)
        assert claims["iss"] == S and claims["materials"][0]["sha256"] == "ab" * 32
        # Online verification, by the owner.
        verified = await http.post(auth + "/v1/attestations/verify", json={"jws": token},
                                   headers=await system.headers(B))
        assert verified.json()["valid"] and verified.json()["issuer"] == S
        head, payload, signature = token.split(".")
        altered = json.loads(crypto.b64url_decode(payload))
        altered["materials"][0]["sha256"] = "cd" * 32
        tampered = f"{head}.{crypto.b64url(json.dumps(altered).encode())}.{signature}"
        refused = await http.post(auth + "/v1/attestations/verify", json={"jws": tampered},
                                  headers=await system.headers(B))
        assert refused.json() == {"valid": False, "issuer": None, "kid": None, "claims": None,
                                  "reason": "the signature does not verify"}
        # Only the issuer and the owners see the stored attestation.
        attestation = issued.json()["attestation_id"]
        assert (await http.get(auth + f"/v1/attestations/{attestation}",
                               headers=await system.headers(B))).status_code == 200
        assert (await http.get(auth + f"/v1/attestations/{attestation}",
                               headers=await system.headers(Y))).status_code == 404


async def test_a_tampered_audit_row_is_found(start_system: SystemFactory) -> None:
    system = await start_system("authorization")
    auth, db = system.url("authorization"), system.database_urls["authorization"]
    async with httpx.AsyncClient(timeout=10) as http:
        for party in (Y, S, T, B):
            await system.token(party)  # each issuance is an audited decision
        headers = await system.headers(S)

        async def chained() -> bool:
            result = (await http.get(auth + "/v1/audit/verify", headers=headers)).json()
            return bool(result["unchained"] == 0 and result["checked"] >= 8)

        await wait_for(chained, timeout=20)
        intact = (await http.get(auth + "/v1/audit/verify", headers=headers)).json()
        assert intact["intact"] and intact["first_broken_seq"] is None
        checkpoint = await http.post(auth + "/v1/audit/checkpoints", headers=headers)
        assert checkpoint.status_code == 201 and checkpoint.json()["seq"] >= intact["checked"]
        await _execute(db, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 3")
        broken = (await http.get(auth + "/v1/audit/verify", headers=headers)).json()
        assert broken["intact"] is False and broken["first_broken_seq"] == 3
        assert "altered" in broken["reason"]


async def test_bad_tokens_are_refused_with_their_reasons(start_system: SystemFactory) -> None:
    system = await start_system("routing")
    auth_db = system.database_urls["authorization"]
    rows = await _execute(auth_db, "SELECT kid, sealed_private FROM signing_keys WHERE owner = 'issuer' "
                                   "AND status = 'active'")
    kid, sealed = rows[0]
    issuer_key = Ed25519PrivateKey.from_private_bytes(
        crypto.unseal_versioned(bytes(sealed), {"t1": known_key("authorization", "signing-key-seal")}, kid))
    client_id = system.credentials[S]["client_id"]

    def forge(**overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": "tongban-authorization", "sub": client_id, "aud": ["tongban-routing"], "iat": now,
                  "nbf": now, "exp": now + 300, "jti": str(uuid.uuid4()), "locality": S, "roles": ["window_clerk"]}
        claims.update(overrides)
        return jwt.encode(claims, issuer_key, algorithm="EdDSA", headers={"kid": kid})

    routing = system.url("routing") + "/v1/cases/" + str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=10) as http:
        async def reason(token: str) -> str:
            response = await http.get(routing, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
            detail: str = response.json()["detail"]
            return detail

        assert (await http.get(routing, headers={"Authorization": f"Bearer {forge()}"})).status_code == 404
        assert await reason(forge(exp=int(time.time()) - 120)) == "token expired"
        assert await reason(forge(nbf=int(time.time()) + 600)) == "token not yet valid"
        assert "not meant for this service" in await reason(forge(aud=["tongban-delivery"]))
        other = Ed25519PrivateKey.generate()
        bad = jwt.encode({"sub": client_id}, other, algorithm="EdDSA", headers={"kid": kid})
        assert await reason(bad) == "token signature does not verify"
        assert (await http.get(routing)).json()["detail"] == "a bearer token is required"
        # The token endpoint refuses wrong secrets, unknown grants and roles the client does not hold.
        token_url = system.url("authorization") + "/oauth/token"
        wrong = await http.post(token_url, data={"grant_type": "client_credentials", "client_id": client_id,
                                                 "client_secret": "wrong"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        grant = await http.post(token_url, data={"grant_type": "password", "client_id": client_id,
                                                 "client_secret": system.credentials[S]["client_secret"]})
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
        scope = await http.post(token_url, data={"grant_type": "client_credentials", "client_id": client_id,
                                                 "client_secret": system.credentials[S]["client_secret"],
                                                 "scope": "carrier"})
        assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"
        # A revoked client: its token is refused everywhere, its secret gets no new token.
        registered = await http.post(system.url("authorization") + "/v1/clients", headers=await system.headers(S),
                                     json={"locality": S, "name": "temporary", "roles": ["window_clerk"]})
        temp = registered.json()
        issued = await http.post(token_url, data={"grant_type": "client_credentials", "client_id": temp["client_id"],
                                                  "client_secret": temp["client_secret"]})
        temp_token = issued.json()["access_token"]
        assert (await http.get(routing, headers={"Authorization": f"Bearer {temp_token}"})).status_code == 404
        assert (await http.post(system.url("authorization") + f"/v1/clients/{temp['client_id']}/revoke",
                                headers=await system.headers(S))).status_code == 200

        async def refused() -> bool:
            response = await http.get(routing, headers={"Authorization": f"Bearer {temp_token}"})
            return response.status_code == 401 and response.json()["detail"] == "client revoked"

        await wait_for(refused, timeout=20)  # the ClientRevoked event reaches routing through Kafka
        again = await http.post(token_url, data={"grant_type": "client_credentials", "client_id": temp["client_id"],
                                                 "client_secret": temp["client_secret"]})
        assert again.status_code == 401 and again.json()["error_description"] == "client revoked"
        # Another locality's maintainer cannot register clients for Suzhou.
        foreign = await http.post(system.url("authorization") + "/v1/clients", headers=await system.headers(B),
                                  json={"locality": S, "name": "intruder", "roles": ["window_clerk"]})
        assert foreign.status_code == 403
        # A locality's maintainer cannot grant a regional role, not even to its own locality's client.
        for role in ("regional_catalogue", "regional_calendar", "regional_operator"):
            grab = await http.post(system.url("authorization") + "/v1/clients", headers=await system.headers(S),
                                   json={"locality": S, "name": "self-promoted", "roles": ["maintainer", role]})
            assert grab.status_code == 403 and role in grab.json()["detail"], grab.text
        # The joint office's operators grant them with the command line, on the authorization database.
        env = {**os.environ, **system.services["authorization"].env}
        printed = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "tongban.cli", "clients", "register", "--locality", Y, "--name", "joint office desk",
            "--regional"], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
        assert printed.returncode == 0, printed.stdout + printed.stderr
        office = json.loads(printed.stdout)
        assert office["roles"] == ["regional_catalogue", "regional_calendar", "regional_operator"]
        narrowed = await http.post(token_url, data={
            "grant_type": "client_credentials", "client_id": office["client_id"],
            "client_secret": office["client_secret"], "scope": "regional_calendar"})
        assert narrowed.status_code == 200 and narrowed.json()["scope"] == "regional_calendar", narrowed.text


async def test_consents_are_checked_and_revocation_is_an_event(start_system: SystemFactory) -> None:
    system = await start_system("authorization")
    auth = system.url("authorization")
    body = {"subject_ref": "applicant-ref-0001", "item_code": "YRD-DA-0001", "data_kind": "real_estate_records",
            "requester": B, "holder": Y, "purpose": "inheritance", "expires_at": "2099-01-01T00:00:00+00:00"}
    query = {k: body[k] for k in ("subject_ref", "item_code", "data_kind", "holder", "purpose")}
    async with httpx.AsyncClient(timeout=10) as http:
        # A third locality cannot record a consent for a pair it is not part of, nor can the holder:
        # the applicant gives it at a window of the requesting locality.
        for stranger in (S, Y):
            refused = await http.post(auth + "/v1/consents", json=body, headers=await system.headers(stranger))
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        still_denied = await http.get(auth + "/v1/consents/check", params=query, headers=await system.headers(B))
        assert not still_denied.json()["allowed"]
        created = await http.post(auth + "/v1/consents", json=body, headers=await system.headers(B))
        assert created.status_code == 201, created.text
        consent_id = created.json()["id"]
        allowed = await http.get(auth + "/v1/consents/check", params=query, headers=await system.headers(B))
        assert allowed.json()["allowed"] and allowed.json()["consent_id"] == consent_id
        other = await http.get(auth + "/v1/consents/check", params=query, headers=await system.headers(T))
        assert not other.json()["allowed"]
        for stranger in (T, S):  # only the requester or the holder revokes
            assert (await http.post(auth + f"/v1/consents/{consent_id}/revoke",
                                    headers=await system.headers(stranger))).status_code == 404
        assert (await http.post(auth + f"/v1/consents/{consent_id}/revoke",
                                headers=await system.headers(B))).status_code == 200
        second = await http.post(auth + "/v1/consents", json={**body, "purpose": "sale"},
                                 headers=await system.headers(B))
        assert (await http.post(auth + f"/v1/consents/{second.json()['id']}/revoke",
                                headers=await system.headers(Y))).status_code == 200, "the holder revokes too"
        denied = await http.get(auth + "/v1/consents/check", params=query, headers=await system.headers(B))
        assert not denied.json()["allowed"] and "revoked" in denied.json()["reason"]
    for locality in (B, Y):
        await read_topic(system.kafka.bootstrap, system.topic(locality), until=lambda rs: any(
            r.header("ce_type") == "cn.tongban.authorization.consent.revoked.v1" for r in rs))
