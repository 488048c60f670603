"""Duplicated, reordered and malformed records injected on every locality topic with a raw producer.

A real world first: the item published (revision 1) and revised (revision 2, 7 days), a case
accepted in Suzhou for Bozhou and forwarded by post, its waybill made by delivery and attached by
routing. Then, on each of the four locality topics:

- copies of the real ``CaseForwarded``, ``WaybillCreated`` and ``ItemPublished`` records (same
  event id), and copies under a new event id (the same fact told twice);
- the older ``ItemPublished`` (revision 1) under a new event id, after the newer one;
- malformed records: garbage, no content type, a wrong one, structured mode, an unknown type,
  invalid data, data that is not JSON or not an object, a bad time, an unknown spec version, a
  header that is not UTF-8, a tombstone;
- a well-formed ``CaseForwarded`` that delivery's database refuses (a case id too long).

Nothing may change: one item at revision 2, one waybill, attached once. Each malformed record is
on the dead-letter topic once per consumer group with its reason; the refused one once, by delivery,
after its attempts; nothing else is dead-lettered. Finally a new revision still reaches routing:
the consumers went on.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from shared.contracts.catalogue import ItemPublished
from shared.contracts.delivery import WaybillCreated
from shared.contracts.routing import CaseForwarded
from shared.envelope import Envelope, Record
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.records import GROUPS, MALFORMED, with_new_id
from tongban.testbed.world import (
    ITEM_CODE,
    LOCALITIES,
    B,
    S,
    dead_letters,
    figures_line,
    prepare,
    query,
    read_records,
    submission,
)


async def _world(system: System, http: httpx.AsyncClient) -> dict[str, Any]:
    """An item at its second revision and one forwarded case with its waybill attached."""
    await prepare(system)
    suzhou = await system.headers(S)
    revised = await http.patch(system.url("catalogue") + f"/v1/items/{ITEM_CODE}", json={"committed_days": 7},
                               headers=await system.headers(REGIONAL))
    assert revised.status_code == 200 and revised.json()["revision"] == 2, revised.text
    routing = system.url("routing")
    submitted = await http.post(routing + "/v1/cases", json=submission(B, "accepted_here_handled_there"),
                                headers=suzhou)
    assert submitted.status_code == 201, submitted.text
    case_id = submitted.json()["id"]
    for action in ("accept", "forward"):
        moved = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": action},
                                headers=suzhou)
        assert moved.status_code == 200, moved.text

    async def attached() -> bool:
        case = (await http.get(routing + f"/v1/cases/{case_id}", headers=suzhou)).json()
        return bool(case["waybill_numbers"])

    await wait_for(attached, timeout=60, interval=0.3)

    async def second_revision_known() -> bool:  # the revision's event travels on its own partition
        rows = await query(system.database_urls["routing"], "SELECT revision FROM known_items WHERE code = :c",
                           c=ITEM_CODE)
        return bool(rows and rows[0][0] == 2)

    await wait_for(second_revision_known, timeout=60, interval=0.3)
    return {"case_id": case_id}


async def _state(system: System, case_id: str) -> dict[str, Any]:
    routing, delivery = system.database_urls["routing"], system.database_urls["delivery"]
    items = await query(routing, "SELECT code, revision, committed_days, published FROM known_items ORDER BY code")
    waybills = await query(delivery, "SELECT number, case_id, flow FROM waybills ORDER BY number")
    case = await query(routing, "SELECT waybill_numbers, status, sequence FROM cases WHERE id = :id", id=case_id)
    return {"items": [tuple(r) for r in items], "waybills": [tuple(r) for r in waybills],
            "case": (json.loads(case[0][0]) if isinstance(case[0][0], str) else case[0][0], case[0][1], case[0][2]),
            "cases": [tuple(r) for r in await query(routing, "SELECT id FROM cases")]}


async def test_duplicated_reordered_and_malformed_records_change_nothing(start_system: SystemFactory) -> None:
    system = await start_system()
    bootstrap = system.kafka.bootstrap
    async with httpx.AsyncClient(timeout=15) as http:
        case_id = (await _world(system, http))["case_id"]
        before = await _state(system, case_id)
        assert before["items"] == [(ITEM_CODE, 2, 7, True)] and len(before["waybills"]) == 1

        real = await read_records(bootstrap, [system.topic(S)], until=lambda rs: {
            r.header("ce_type") for r in rs} >= {CaseForwarded.ce_type(), WaybillCreated.ce_type()}
            and sum(r.header("ce_type") == ItemPublished.ce_type() for r in rs) >= 2)
        forwarded = next(r for r in real if r.header("ce_type") == CaseForwarded.ce_type())
        waybill = next(r for r in real if r.header("ce_type") == WaybillCreated.ce_type())
        published = sorted((r for r in real if r.header("ce_type") == ItemPublished.ce_type()),
                           key=lambda r: json.loads(r.value)["revision"])
        refused = Envelope.wrap(CaseForwarded(case_id="x" * 40, accepting_locality=S, owning_locality=B,
                                              material_hashes=[]), "/tongban/intruder")

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        injected = Counter[str]()
        try:
            for locality in LOCALITIES:
                topic = system.topic(locality)

                async def send(kind: str, value: bytes | None, key: bytes | None,
                               headers: list[tuple[str, bytes]], topic: str = topic) -> None:
                    await producer.send_and_wait(topic, value=value, key=key, headers=headers)
                    injected[kind] += 1

                for record in (forwarded, waybill, published[1]):
                    await send("copy", record.value, record.key, list(record.headers))
                    await send("same fact, new id", record.value, record.key, with_new_id(record))
                await send("older revision after newer", published[0].value, published[0].key,
                           with_new_id(published[0]))
                for name, (value, headers, _reason) in MALFORMED.items():
                    await send("malformed", value, f"bad:{name}:{locality}".encode(), headers)
                await send("refused by the database", refused.value(), f"bad:refused:{locality}".encode(),
                           list(refused.headers()))
        finally:
            await producer.stop()

        wanted = {(g, f"bad:{name}:{loc}") for g in GROUPS for name in MALFORMED for loc in LOCALITIES}
        wanted |= {("tongban-delivery", f"bad:refused:{loc}") for loc in LOCALITIES}

        async def all_dead_lettered() -> bool:
            letters = await dead_letters(system)
            return wanted <= {(r.header("tongban_dlt_group"), (r.key or b"").decode()) for r in letters}

        await wait_for(all_dead_lettered, timeout=90, interval=1)

        # The consumers went on: a third revision reaches routing after all of it.
        third = await http.patch(system.url("catalogue") + f"/v1/items/{ITEM_CODE}", json={"committed_days": 9},
                                 headers=await system.headers(REGIONAL))
        assert third.status_code == 200 and third.json()["revision"] == 3

        async def third_known() -> bool:
            rows = await query(system.database_urls["routing"], "SELECT revision FROM known_items")
            return bool(rows) and rows[0][0] == 3

        await wait_for(third_known, timeout=60, interval=0.3)
        after = await _state(system, case_id)
        letters = await dead_letters(system)

    print(figures_line("bad events", injected=dict(injected), injected_total=sum(injected.values()),
                       dead_letters=len(letters), groups=len(GROUPS)))
    assert after["waybills"] == before["waybills"], "no second waybill from a copied or retold CaseForwarded"
    assert after["case"] == before["case"], "the case and its attached waybill did not change"
    assert after["cases"] == before["cases"]
    assert after["items"] == [(ITEM_CODE, 3, 9, True)], "the older revision was ignored; no injected item appeared"
    by_key: dict[tuple[str, str], list[Record]] = {}
    for letter in letters:
        by_key.setdefault((letter.header("tongban_dlt_group") or "", (letter.key or b"").decode()), []).append(letter)
    assert set(by_key) == wanted, f"dead-lettered beyond the bad records: {sorted(set(by_key) - wanted)[:5]}"
    for (group, key), found in by_key.items():
        name, locality = key.split(":")[1:]
        reason = found[0].header("tongban_dlt_reason") or ""
        assert len(found) == 1, f"{group} dead-lettered {key} {len(found)} times"
        if name in MALFORMED:
            assert reason.startswith(MALFORMED[name][2]), f"{group} {key}: {reason!r}"
        else:
            assert reason.startswith("handler failed: ") and "value too long" in reason, f"{key}: {reason!r}"
        assert found[0].header("tongban_dlt_topic") == system.topic(locality)
        assert found[0].topic == system.topic(locality) + ".dlt"
