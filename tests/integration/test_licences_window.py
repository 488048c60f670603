"""Electronic licences on processes (issue 17): a licence Bozhou issued is a material at Yangpu's window.

Real Kafka, PostgreSQL and service processes. Bozhou's department officer issues licences signed with
Bozhou's key; Yangpu's window gives them as materials instead of scans. A valid one is verified with
Bozhou (through the authorization service), recorded on the material, the submission's step and the
acceptance attestation, and the owner sees it as verified; a revoked (by its issuer, or with its case's
revoked result, an event on Kafka), an expired, a forged (signature tampered) and an unknown one are
refused with their reason and nothing is stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared import clock
from shared.contracts.routing import CaseResultRevoked
from shared.envelope import Envelope
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import ALL_MODES, AREAS, sign
from tongban.testbed.kafka_io import produce_raw, read_topic
from tongban.testbed.patience import patience

Y, B = "310110", "341600"
ITEM = {"code": "YRD-SC-0901", "name_zh": "食品经营许可变更", "name_en": "Food business licence change",
        "area": "market_supervision", "modes": ["accepted_here_handled_there"],
        "ownership_rule": "enterprise_registration_place",
        "committed_days": 5,
        "licence_types": [{"code": "YYZZ", "name": "营业执照"}, {"code": "SPJY", "name": "食品经营许可证"}]}
STANDARD = {"competent_department": "亳州市市场监督管理局", "legal_days": 20, "committed_days": 5,
            "materials": [{"name": "申请书", "form": "original", "count": 1},
                          {"name": "营业执照", "form": "original", "count": 1, "electronic_accepted": False}]}
FILE_HASH = "5d" * 32


async def _agree(system: System) -> None:
    """Yangpu holds every right for Bozhou."""
    now = datetime.now(UTC)
    body = {"title": "专窗授权", "text": "相互授权。", "parties": [Y, B], "items": [], "areas": AREAS,
            "valid_from": (now - timedelta(days=1)).isoformat(), "valid_until": (now + timedelta(days=99)).isoformat(),
            "permissions": [{"acceptor": Y, "owner": B, "modes": ALL_MODES}]}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(system.url("authorization") + "/v1/agreements", json=body,
                                   headers=await system.headers(Y))
    assert response.status_code == 201, response.text
    for party in (Y, B):
        assert (await sign(system, response.json(), party)).status_code == 201


def _licence(number: str, **changes: Any) -> dict[str, Any]:
    today = clock.current().today()
    return {"type_code": "YYZZ", "type_name": "营业执照", "number": number, "holder_kind": "enterprise",
            "holder_name": "亳州市谯城区百草堂药业有限公司", "holder_id": "91341600MA2TXXXX0X",
            "issuing_authority": "亳州市市场监督管理局", "valid_from": (today - timedelta(days=400)).isoformat(),
            "valid_until": (today + timedelta(days=3000)).isoformat(), "file_sha256": FILE_HASH,
            "holder_localities": [Y], **changes}


async def test_a_bozhou_licence_is_verified_at_yangpu_and_bad_ones_are_refused(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing")
    await _agree(system)
    routing, catalogue, auth = system.url("routing"), system.url("catalogue"), system.url("authorization")
    async with httpx.AsyncClient(timeout=15) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(catalogue + "/v1/items", json=ITEM, headers=regional)).status_code == 201
        put = await http.put(catalogue + f"/v1/items/{ITEM['code']}/standards/{B}", json=STANDARD, headers=regional)
        assert put.status_code == 200, put.text
        assert (await http.post(catalogue + f"/v1/items/{ITEM['code']}/publish", headers=regional)).status_code == 200
        bozhou, yangpu = await system.headers(B), await system.headers(Y)

        async def issue(body: dict[str, Any]) -> dict[str, Any]:
            created = await http.post(auth + "/v1/licences", json=body, headers=bozhou)
            assert created.status_code == 201, created.text
            assert created.headers["location"] == f"/v1/licences/{created.json()['licence_id']}"
            return dict(created.json())

        # A Bozhou case accepted at Yangpu: its result is a licence of one of the item's types, signed by Bozhou.
        async def move(case_id: str, headers: dict[str, str], action: str, **extra: Any) -> httpx.Response:
            return await http.post(routing + f"/v1/cases/{case_id}/transitions", headers=headers,
                                   json={"action": action, **extra})

        first = await http.post(routing + "/v1/cases", headers=yangpu, json={
            "item_code": ITEM["code"], "mode": "accepted_here_handled_there", "applicant_id": "11010519491231002X",
            "ownership": {"enterprise_registration_place": [B]},
            "materials": [{"name": "申请书", "form": "original"}, {"name": "营业执照", "form": "original"}]})
        assert first.status_code == 201, first.text
        result_case = first.json()["id"]
        for headers, action, extra in ((yangpu, "accept", {}), (yangpu, "forward", {}),
                                       (bozhou, "receive", {"handover_reason": "由杨浦窗口专人送达"}),
                                       (bozhou, "start_review", {}), (bozhou, "approve", {})):
            moved = await move(result_case, headers, action, **extra)
            assert moved.status_code == 200, moved.text
        result_licence = {k: v for k, v in _licence("JY-2026-0003").items()
                          if k not in ("type_name", "holder_localities")}
        wrong_type = await move(result_case, bozhou, "issue_result", licence={**result_licence, "type_code": "XKZ"})
        assert wrong_type.status_code == 422 and "has no licence type 'XKZ'" in wrong_type.json()["detail"]
        issued = await move(result_case, bozhou, "issue_result", licence=result_licence)
        assert issued.status_code == 200 and issued.json()["status"] == "result_issued", issued.text
        timeline = (await http.get(routing + f"/v1/cases/{result_case}", headers=yangpu)).json()["timeline"]
        recorded = timeline[-1]["detail"]["licence"]
        assert recorded["identifier"] == "TB.341600.YYZZ.JY-2026-0003"
        of_case = (await http.get(auth + f"/v1/licences/{recorded['licence_id']}", headers=yangpu)).json()
        assert of_case["case_id"] == result_case and of_case["type_name"] == "营业执照"
        assert of_case["issuing_locality"] == B and set(of_case["holder_localities"]) == {B, Y}

        valid = await issue(_licence("JY-2026-0001"))
        assert valid["holder_name_masked"].startswith("亳*") and "百草堂" not in json.dumps(valid, ensure_ascii=False)
        assert valid["holder_id_masked"] == "9134**********XX0X" and valid["issuing_locality"] == B
        assert valid["identifier"] == "TB.341600.YYZZ.JY-2026-0001" and valid["signature"].count(".") == 2
        to_revoke = await issue(_licence("JY-2026-0002"))
        today = clock.current().today()
        expired = await issue(_licence("JY-2019-0004", valid_from=(today - timedelta(days=2000)).isoformat(),
                                       valid_until=(today - timedelta(days=1)).isoformat()))

        # Only the issuing locality's department officer issues; a taken number is a conflict; bad input a 422.
        again = await http.post(auth + "/v1/licences", json=_licence("JY-2026-0001"), headers=bozhou)
        assert again.status_code == 409 and again.json()["type"].endswith("licence-exists"), again.text
        backwards = await http.post(auth + "/v1/licences", headers=bozhou, json=_licence(
            "JY-2026-0009", valid_until=(today - timedelta(days=500)).isoformat()))
        assert backwards.status_code == 422 and "before it starts" in backwards.json()["detail"], backwards.text

        async def submit(number: str, signature: str | None = None) -> httpx.Response:
            reference: dict[str, Any] = {"issuing_locality": B, "number": number}
            if signature:
                reference["signature"] = signature
            body = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there",
                    "applicant_id": "11010519491231002X", "ownership": {"enterprise_registration_place": [B]},
                    "materials": [{"name": "申请书", "form": "original"},
                                  {"name": "营业执照", "form": "electronic", "licence": reference}]}
            return await http.post(routing + "/v1/cases", json=body, headers=yangpu)

        # The valid licence: the case is accepted, the material is the licence's electronic form, verified.
        created = await submit("JY-2026-0001", valid["signature"])
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        material = created.json()["materials"][1]
        assert material["form"] == "electronic" and material["sha256"] == FILE_HASH
        assert material["licence"]["verified"] is True and material["licence"]["verified_by"] == Y
        assert material["licence"]["identifier"] == valid["identifier"]
        accepted = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": "accept"},
                                   headers=yangpu)
        assert accepted.status_code == 200, accepted.text  # the licence serves for the original the standard names
        owner_view = (await http.get(routing + f"/v1/cases/{case_id}", headers=bozhou)).json()
        assert owner_view["materials"][1]["licence"]["verified"] is True
        submitted = owner_view["timeline"][0]
        assert submitted["action"] == "submit"
        assert submitted["detail"]["licences_verified"][0]["identifier"] == valid["identifier"]
        attestation = (await http.get(auth + f"/v1/attestations/{owner_view['attestation_id']}",
                                      headers=bozhou)).json()
        verified = (await http.post(auth + "/v1/attestations/verify", json={"jws": attestation["jws"]},
                                    headers=bozhou)).json()
        assert verified["valid"] is True
        assert verified["claims"]["materials"][1]["licence"]["identifier"] == valid["identifier"]

        async def refused(number: str, kind: str, words: str, signature: str | None = None) -> None:
            answer = await submit(number, signature)
            assert answer.status_code == 422, answer.text
            problem = answer.json()
            assert problem["type"].endswith("licence-refused") and problem["refusal"] == kind, problem
            assert problem["material"] == "营业执照" and words in problem["detail"], problem

        from_result = await submit("JY-2026-0003")  # the first case's result licence, before it is revoked
        assert from_result.status_code == 201 and from_result.json()["materials"][1]["licence"]["verified"], \
            from_result.text
        before = (await http.get(routing + "/v1/cases", headers=yangpu)).json()["cases"]

        # Revoked by its issuer, with a reason; the revocation is an event on the holder's topic.
        revoked = await http.post(auth + f"/v1/licences/{to_revoke['licence_id']}/revocation",
                                  json={"reason": "变更登记后原证注销"}, headers=bozhou)
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
        not_yangpus = await http.post(auth + f"/v1/licences/{valid['licence_id']}/revocation",
                                      json={"reason": "x"}, headers=yangpu)
        assert not_yangpus.status_code == 403, not_yangpus.text
        twice = await http.post(auth + f"/v1/licences/{to_revoke['licence_id']}/revocation",
                                json={"reason": "again"}, headers=bozhou)
        assert twice.status_code == 409, twice.text
        await refused("JY-2026-0002", "revoked", "变更登记后原证注销")

        # A case's result revoked (routing's event on Kafka): the case's licence is revoked with it.
        event = CaseResultRevoked(case_id=result_case, item_code=ITEM["code"], owning_locality=B,
                                  accepting_locality=Y, reason="告知承诺不实", revoked_at=datetime.now(UTC))
        record = Envelope.wrap(event, "/tongban/routing").to_record(system.topic(B))
        await produce_raw(system.kafka.bootstrap, record.topic, record.value, record.key, list(record.headers),
                          **system.kafka.client_options())

        def revocations(records: list[Any]) -> list[dict[str, Any]]:
            return [json.loads(r.value) for r in records
                    if dict(r.headers).get("ce_type") == b"cn.tongban.authorization.licence.revoked.v1"]

        on_yangpu = await read_topic(system.kafka.bootstrap, system.topic(Y),
                                     lambda records: len(revocations(records)) >= 2, timeout=60 * patience(),
                                     **system.kafka.client_options())
        numbers = {r["number"]: r for r in revocations(on_yangpu)}
        assert set(numbers) == {"JY-2026-0002", "JY-2026-0003"}
        assert numbers["JY-2026-0003"]["reason"] == "告知承诺不实" and numbers["JY-2026-0003"]["case_id"] == of_case[
            "case_id"]
        assert "百草堂" not in json.dumps(numbers, ensure_ascii=False)
        await refused("JY-2026-0003", "revoked", "告知承诺不实")

        # Expired, forged (signature tampered) and unknown: refused with the reason.
        await refused(expired["number"], "expired", "expired on")
        head, payload, signature = valid["signature"].split(".")
        tampered = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        await refused("JY-2026-0001", "forged", "signature does not verify", tampered)
        await refused("JY-2026-9999", "unknown", "issued no licence numbered JY-2026-9999")
        after = (await http.get(routing + "/v1/cases", headers=yangpu)).json()["cases"]
        assert len(after) == len(before)  # nothing stored for a refused case

        # Any party verifies a licence; Suzhou's system reads it too.
        suzhou = await system.headers("320505")
        checked = await http.post(auth + "/v1/licences/verify", json={"issuing_locality": B,
                                                                       "number": "JY-2026-0001"}, headers=suzhou)
        assert checked.status_code == 200 and checked.json()["valid"] is True, checked.text
        forged_file = await http.post(auth + "/v1/licences/verify", headers=suzhou, json={
            "issuing_locality": B, "number": "JY-2026-0001", "file_sha256": "00" * 32})
        assert forged_file.json()["refusal"] == "forged" and "SHA-256 differs" in forged_file.json()["reason"]
