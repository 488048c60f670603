"""Tenant isolation: a Suzhou token cannot read or change a case between Yangpu and Bozhou.

The test walks every operation of every service's OpenAPI document with the most powerful Suzhou
token (every role it can hold), aiming each at the Yangpu–Bozhou case, its waybill, their agreement,
the attestation and the consent; no successful response may reveal them, and afterwards none of
them has changed.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.settings import SERVICE_NAMES
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import wait_for

Y, S, B = "310110", "320505", "341600"
ITEM = {"code": "YRD-SB-0001", "name_zh": "社会保障卡申领", "name_en": "Social security card application",
        "area": "social_security", "modes": ["accepted_here_handled_there", "fully_online"],
        "ownership_rule": "insured_place", "committed_days": 5}


async def _yangpu_bozhou_world(system: System, http: httpx.AsyncClient) -> dict[str, str]:
    """Create the Yangpu–Bozhou resources the walk aims at."""
    yangpu = await system.headers(Y)
    await activate(system, [Y, S, B])
    agreement = await activate(system, [Y, B], title="杨浦—亳州双边协议")
    regional = await system.headers(REGIONAL)
    assert (await http.post(system.url("catalogue") + "/v1/items", json=ITEM, headers=regional)).status_code == 201
    assert (await http.post(system.url("catalogue") + "/v1/items/YRD-SB-0001/publish",
                            headers=regional)).status_code == 200
    body = {"item_code": "YRD-SB-0001", "mode": "accepted_here_handled_there", "ownership": {"insured_place": [B]},
            "applicant_id": "11010519491231002X"}
    created: list[httpx.Response] = []

    async def submitted() -> bool:
        created.append(await http.post(system.url("routing") + "/v1/cases", json=body, headers=yangpu))
        return created[-1].status_code == 201

    await wait_for(submitted, timeout=30, interval=0.3)
    case_id = created[-1].json()["id"]
    for action in ("accept", "forward"):
        moved = await http.post(system.url("routing") + f"/v1/cases/{case_id}/transitions",
                                json={"action": action}, headers=yangpu)
        assert moved.status_code == 200, moved.text

    async def waybill() -> str | None:
        case = (await http.get(system.url("routing") + f"/v1/cases/{case_id}", headers=yangpu)).json()
        return case["waybill_numbers"][0] if case["waybill_numbers"] else None

    await wait_for(waybill, timeout=30)
    attestation = await http.post(system.url("authorization") + "/v1/attestations", headers=yangpu, json={
        "case_id": case_id, "item_code": "YRD-SB-0001", "mode": "accepted_here_handled_there", "owners": [B],
        "materials": [{"name": "身份证", "sha256": "ab" * 32, "form": "electronic"}], "clerk": "clerk-1",
        "accepted_at": datetime.now(UTC).isoformat()})
    consent = await http.post(system.url("authorization") + "/v1/consents", headers=await system.headers(B), json={
        "subject_ref": "applicant-yb-0001", "item_code": "YRD-DA-0001", "data_kind": "real_estate_records",
        "requester": B, "holder": Y, "purpose": "inheritance", "expires_at": "2099-01-01T00:00:00+00:00"})
    keys = (await http.get(system.url("authorization") + "/v1/keys", headers=yangpu)).json()
    return {
        "case_id": case_id,
        "number": str(await waybill()),
        "agreement_id": agreement["id"],
        "attestation_id": attestation.json()["attestation_id"],
        "consent_id": consent.json()["id"],
        "client_id": system.credentials[Y]["client_id"],
        "kid": next(k["kid"] for k in keys if k["owner"] == Y and k["status"] == "active"),
        "locality": Y,
        "code": "YRD-SB-0001",
        "applicant_masked": created[-1].json()["applicant_masked"],
    }


QUERY = {"case_id": "{case_id}", "acceptor": Y, "owner": B, "item": "YRD-SB-0001", "mode": "fully_online",
         "subject_ref": "applicant-yb-0001", "item_code": "YRD-DA-0001", "data_kind": "real_estate_records",
         "holder": Y, "purpose": "inheritance", "locality": Y}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/cases/{case_id}/transitions"): {"action": "withdraw"},
    ("post", "/v1/agreements/{agreement_id}/signatures"): {"canonical_sha256": "0" * 64},
    ("post", "/v1/agreements/{agreement_id}/acts"): {"kind": "terminate", "reason": "intrusion"},
    ("post", "/v1/clients"): {"locality": Y, "name": "intruder", "roles": ["window_clerk"]},
    ("post", "/v1/attestations/verify"): {"jws": "a.b.c"},
}


async def _snapshot(system: System, http: httpx.AsyncClient, world: dict[str, str]) -> dict[str, Any]:
    yangpu, bozhou = await system.headers(Y), await system.headers(B)
    case = (await http.get(system.url("routing") + f"/v1/cases/{world['case_id']}", headers=yangpu)).json()
    waybill = (await http.get(system.url("delivery") + f"/v1/waybills/{world['number']}", headers=bozhou)).json()
    agreement = (await http.get(system.url("authorization") + f"/v1/agreements/{world['agreement_id']}",
                                headers=bozhou)).json()
    consent = (await http.get(system.url("authorization") + "/v1/consents/check", headers=bozhou, params={
        "subject_ref": "applicant-yb-0001", "item_code": "YRD-DA-0001", "data_kind": "real_estate_records",
        "holder": Y, "purpose": "inheritance"})).json()
    keys = (await http.get(system.url("authorization") + "/v1/keys", headers=yangpu)).json()
    clients = (await http.get(system.url("authorization") + "/v1/clients", headers=yangpu)).json()
    return {"case": (case["status"], case["sequence"]), "waybill": waybill["status"],
            "agreement": (agreement["status"], len(agreement["signatures"]), len(agreement["acts"])),
            "consent": consent["allowed"], "keys": sorted((k["kid"], k["status"]) for k in keys if k["owner"] == Y),
            "clients": sorted((c["client_id"], c["revoked"], c["name"]) for c in clients)}


async def test_suzhou_cannot_reach_a_yangpu_bozhou_case_through_any_endpoint(start_system: SystemFactory) -> None:
    system = await start_system()
    async with httpx.AsyncClient(timeout=15) as http:
        world = await _yangpu_bozhou_world(system, http)
        before = await _snapshot(system, http, world)
        suzhou = await system.headers(S)
        secrets_ = {world[k] for k in ("case_id", "number", "agreement_id", "attestation_id", "consent_id",
                                       "applicant_masked")}
        walked: list[str] = []
        for service in SERVICE_NAMES:
            document = (await http.get(system.url(service) + "/openapi.json")).json()
            for path, operations in document["paths"].items():
                for method, operation in operations.items():
                    if path in ("/oauth/token", "/.well-known/jwks.json"):
                        continue  # public by design: client authentication and the published keys
                    url = re.sub(r"\{(\w+)\}", lambda m: world.get(m.group(1), str(uuid.uuid4())), path)
                    params = {p["name"]: QUERY.get(p["name"], "x").format(**world)
                              for p in operation.get("parameters", []) if p["in"] == "query"}
                    body = BODIES.get((method, path), {}) if "requestBody" in operation else None
                    response = await http.request(method.upper(), system.url(service) + url, params=params,
                                                  json=body, headers=suzhou)
                    walked.append(f"{service} {method.upper()} {path} -> {response.status_code}")
                    assert response.status_code < 500, walked[-1] + " " + response.text
                    if response.status_code < 300:
                        leaked = [s for s in secrets_ if s in response.text]
                        assert not leaked, f"{walked[-1]} revealed {leaked}: {response.text[:300]}"
                    else:
                        assert response.headers["content-type"] == "application/problem+json", walked[-1]
        assert len(walked) >= 25, walked
        after = await _snapshot(system, http, world)
    assert after == before, "a Suzhou request changed a Yangpu–Bozhou resource"
