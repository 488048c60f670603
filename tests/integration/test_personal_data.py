"""Personal data (issue 18, items 9 and 10) against the real services on Kafka and PostgreSQL.

Recipients' names, phones and addresses are sealed in delivery's database; identity and phone
numbers in a free-text reason are masked before the case, the event, the dashboard and the logs see
them, the original sealed for the parties; the applicant-hash key rotates and old hashes still match.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import MetaData

from shared.envelope import parse_record
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.registry import definition
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.keys import KEY_NAMES, known_key
from tongban.testbed.world import query, read_to_end

SUZHOU, BOZHOU, YANGPU = "320505", "341600", "310110"
ITEM = {"code": "YRD-SB-0777", "name_zh": "养老保险关系转移", "name_en": "Pension insurance transfer",
        "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
        "committed_days": 5}
APPLICANT = "11010519491231002X"
MATERIALS = [hashlib.sha256(f"材料 {i}".encode()).hexdigest() for i in range(2)]
REASON_ID, REASON_PHONE = "110105199001010021", "13912345678"
REASON = f"请补充：代办人身份证 {REASON_ID}，联系电话 {REASON_PHONE}，原件复印件各一份"
RECIPIENT = {"name": "王小明", "phone": "13987654321", "province": "江苏省", "city": "苏州市", "district": "虎丘区",
             "street": "狮山路 88 号 3 幢 1201 室", "postcode": "215011"}
SECRETS_IN_CLEAR = (REASON_ID, REASON_PHONE, RECIPIENT["phone"], RECIPIENT["street"], RECIPIENT["name"])


async def dump(url: str, metadata: MetaData) -> str:
    """Every row of every table of a service's database, as text (what someone with the files reads)."""
    text = []
    for table in metadata.sorted_tables:
        rows = await query(url, f"SELECT * FROM {table.name}")
        text.append(f"{table.name}: {rows!r}")
    return "\n".join(text)


async def move(http: httpx.AsyncClient, routing: str, case_id: str, action: str, headers: dict[str, str],
               **detail: Any) -> dict[str, Any]:
    response = await http.post(f"{routing}/v1/cases/{case_id}/transitions", json={"action": action, **detail},
                               headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def submit(http: httpx.AsyncClient, routing: str) -> str:
    submission = {"item_code": ITEM["code"], "mode": "accepted_here_handled_there",
                  "ownership": {"insured_place": [BOZHOU]}, "applicant_id": APPLICANT,
                  "materials": [{"name": f"材料 {i}", "form": "electronic", "sha256": h}
                                for i, h in enumerate(MATERIALS)]}
    created: list[httpx.Response] = []

    async def submitted() -> bool:
        created.append(await http.post(f"{routing}/v1/cases", json=submission))
        return created[-1].status_code == 201

    await wait_for(submitted, timeout=30, interval=0.3)
    case_id: str = created[-1].json()["id"]
    return case_id


async def test_personal_data_is_sealed_and_masked_everywhere(start_system: SystemFactory, tmp_path: Path) -> None:
    system = await start_system()
    await activate(system, [SUZHOU, BOZHOU])
    suzhou, bozhou = await system.headers(SUZHOU), await system.headers(BOZHOU)
    catalogue, routing, delivery = system.url("catalogue"), system.url("routing"), system.url("delivery")
    async with httpx.AsyncClient(timeout=15, headers=suzhou) as http:
        assert (await http.post(f"{catalogue}/v1/items", json=ITEM,
                                headers=await system.headers(REGIONAL))).status_code == 201
        assert (await http.post(f"{catalogue}/v1/items/{ITEM['code']}/publish",
                                   headers=await system.headers(REGIONAL))).status_code == 200
        case_id = await submit(http, routing)
        await move(http, routing, case_id, "accept", suzhou)
        await move(http, routing, case_id, "forward", suzhou)
        await move(http, routing, case_id, "receive", bozhou, material_hashes=MATERIALS,
                   handover_reason="由苏州窗口专人送达")
        await move(http, routing, case_id, "start_review", bozhou)
        await move(http, routing, case_id, "request_supplement", bozhou, reason=REASON,
                   notice=[{"material": "代办人身份证", "reason": "未提交 / missing"}])
        await move(http, routing, case_id, "supplement", suzhou,
                   answers=[{"material": "代办人身份证", "answer": "已补交原件及复印件"}])
        await move(http, routing, case_id, "start_review", bozhou)
        refused = await move(http, routing, case_id, "reject", bozhou, reason=REASON)
        assert REASON_ID not in refused["reason"] and REASON_PHONE not in refused["reason"], refused["reason"]
        assert "110105********0021" in refused["reason"] and "139****5678" in refused["reason"], refused["reason"]
        await move(http, routing, case_id, "issue_result", bozhou)

        # The parties read the original reason; a third locality does not see the case at all.
        case = (await http.get(f"{routing}/v1/cases/{case_id}")).json()
        assert case["reason"] == refused["reason"]
        for action in ("request_supplement", "reject"):
            step = next(s for s in case["timeline"] if s["action"] == action)
            assert step["detail"]["reason_original"] == REASON and REASON_ID not in step["detail"]["reason"]
            assert "reason_sealed" not in step["detail"]
        assert (await http.get(f"{routing}/v1/cases/{case_id}", headers=await system.headers(YANGPU))).status_code \
            == 404

        # The result goes to the applicant's home: the address is sealed at rest, shown masked.
        found: list[dict[str, Any]] = []

        async def result_waybill() -> bool:
            listed = (await http.get(f"{delivery}/v1/waybills", params={"case_id": case_id})).json()
            found[:] = [w for w in listed if w["flow"] == "result"]
            return bool(found)

        await wait_for(result_waybill, timeout=30)
        number = found[0]["number"]
        readdressed = await http.put(f"{delivery}/v1/waybills/{number}/receiver",
                                     json={"deliver_to": "applicant", "address": RECIPIENT}, headers=bozhou)
        assert readdressed.status_code == 200, readdressed.text
        shown = readdressed.json()["receiver_address"]
        assert shown["street"] == RECIPIENT["street"] and shown["phone"] != RECIPIENT["phone"]
        assert shown["name"] != RECIPIENT["name"]

    rows = await query(system.database_urls["delivery"],
                       "SELECT sender_address, receiver_address FROM waybills WHERE case_id = :c", c=case_id)
    assert len(rows) == 2 and all(str(v).lstrip('"').startswith("A256GCM:t1.") for row in rows for v in row), rows
    delivery_db = await dump(system.database_urls["delivery"], definition("delivery").metadata)
    assert "狮山路" not in delivery_db and "236800" not in delivery_db, "addresses (offices' too) are sealed"

    # Nothing in clear in the topics (what the dashboard shows), routing's database, or any service's log.
    records = await read_to_end(system.kafka.bootstrap, [system.topic(SUZHOU), system.topic(BOZHOU)])
    changed = [parse_record(r)[0] for r in records]
    rejected = [e for e in changed if ".case.status_changed" in e.type and e.data["action"] == "reject"]
    assert rejected and all("110105********0021" in e.data["reason"] for e in rejected), \
        sorted({(e.type, str(e.data.get("action"))) for e in changed})
    places = {
        "topics": "\n".join(r.value.decode("utf-8", "replace") for r in records),
        "routing database": await dump(system.database_urls["routing"], definition("routing").metadata),
        "delivery database": delivery_db,
        **{f"{name} log": proc.log_path.read_text(errors="replace") for name, proc in system.services.items()},
    }
    for where, text in places.items():
        for secret in SECRETS_IN_CLEAR:
            assert secret not in text, f"{secret!r} in clear in the {where}"
        for service, names in KEY_NAMES.items():
            for name in names:
                assert known_key(service, name).hex() not in text, f"key {service}/{name} in the {where}"

    await _rotate_the_applicant_hash_key(system, case_id)


async def _rotate_the_applicant_hash_key(system: System, first_case: str) -> None:
    """A second version of routing's applicant-hash key: new hashes use it, old ones still match."""
    routing_keys = Path(system.services["routing"].env["TONGBAN_KEYS_DIR"])
    others = {p: p.read_bytes() for p in routing_keys.parent.glob("*/*") if p.parent.name != "routing"}
    key_file = routing_keys / "applicant-hash"
    key_file.write_text(key_file.read_text() + f"t2:{known_key('routing', 'applicant-hash', 't2').hex()}\n")
    system.services["routing"].stop()
    system.services["routing"].start()
    routing = system.url("routing")
    async with httpx.AsyncClient(timeout=15, headers=await system.headers(SUZHOU)) as http:
        second_case = await submit(http, routing)
        mine = (await http.get(f"{routing}/v1/cases", params={"applicant_id": APPLICANT})).json()["cases"]
        assert {c["id"] for c in mine} == {first_case, second_case}
        nobody = (await http.get(f"{routing}/v1/cases", params={"applicant_id": "110105194912310029"})).json()
        assert nobody["cases"] == []
    versions = await query(system.database_urls["routing"], "SELECT id, applicant_key_id FROM cases")
    assert dict(versions) == {first_case: "t1", second_case: "t2"}
    assert all(p.read_bytes() == content for p, content in others.items()), "no other key changed"
