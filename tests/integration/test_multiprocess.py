"""The four services as four processes on Kafka and PostgreSQL: events cross process boundaries."""

from __future__ import annotations

import httpx

from shared.envelope import parse_record
from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import read_topic, wait_for

ITEM = {
    "code": "YRD-SB-0001",
    "name_zh": "社会保障卡申领",
    "name_en": "Social security card application",
    "area": "social_security",
    "modes": ["accepted_here_handled_there"],
    "ownership_rule": "insured_place",
    "committed_days": 5,
}
SUZHOU, BOZHOU, YANGPU = "320505", "341600", "310110"


async def test_events_cross_four_processes(start_system: SystemFactory) -> None:
    system = await start_system()
    await activate(system, [SUZHOU, BOZHOU])
    suzhou = await system.headers(SUZHOU)
    async with httpx.AsyncClient(timeout=10, headers=suzhou) as http:
        catalogue, routing, delivery = system.url("catalogue"), system.url("routing"), system.url("delivery")
        assert (await http.post(f"{catalogue}/v1/items", json=ITEM, headers={"Authorization": ""})).status_code == 401
        assert (await http.post(f"{catalogue}/v1/items", json=ITEM)).status_code == 403, "the joint office's"
        office = await system.headers(REGIONAL)
        assert (await http.post(f"{catalogue}/v1/items", json=ITEM, headers=office)).status_code == 201
        assert (await http.post(f"{catalogue}/v1/items/YRD-SB-0001/publish", headers=office)).status_code == 200

        submission = {
            "item_code": "YRD-SB-0001", "mode": "accepted_here_handled_there",
            "ownership": {"insured_place": [BOZHOU]}, "applicant_id": "11010519491231002X",
        }
        responses: list[httpx.Response] = []

        async def routing_knows_item() -> bool:
            # The catalogue's event, handled by the routing process, makes the item acceptable.
            responses.append(await http.post(f"{routing}/v1/cases", json=submission))
            return responses[-1].status_code == 201

        await wait_for(routing_knows_item, timeout=30, interval=0.3)
        assert all(r.json()["type"].endswith("item-not-published") for r in responses[:-1]), [
            r.text for r in responses]
        case = responses[-1].json()
        case_id = case["id"]
        for action in ("accept", "forward"):
            moved = await http.post(f"{routing}/v1/cases/{case_id}/transitions", json={"action": action})
            assert moved.status_code == 200, moved.text

        async def waybill_attached() -> bool:
            return bool((await http.get(f"{routing}/v1/cases/{case_id}")).json()["waybill_numbers"])

        # routing -> delivery (CaseForwarded) -> routing (WaybillCreated): two more process hops.
        await wait_for(waybill_attached, timeout=30)
        waybills = (await http.get(f"{delivery}/v1/waybills", params={"case_id": case_id})).json()
        assert [w["flow"] for w in waybills] == ["materials"]
        assert waybills[0]["sender_locality"] == SUZHOU and waybills[0]["receiver_locality"] == BOZHOU
        # Yangpu is no party to the case: it can neither see it nor its waybill.
        yangpu_headers = await system.headers(YANGPU)
        assert (await http.get(f"{routing}/v1/cases/{case_id}", headers=yangpu_headers)).status_code == 404
        assert (await http.get(f"{delivery}/v1/waybills", params={"case_id": case_id},
                               headers=yangpu_headers)).json() == []

    expected = {
        "cn.tongban.routing.case.submitted.v1", "cn.tongban.routing.case.status_changed.v1",
        "cn.tongban.routing.case.forwarded.v1", "cn.tongban.delivery.waybill.created.v1",
    }
    for locality in (SUZHOU, BOZHOU):
        records = await read_topic(
            system.kafka.bootstrap, system.topic(locality),
            until=lambda rs: expected <= {r.header("ce_type") for r in rs},
        )
        case_records = [r for r in records if r.key == case_id.encode()]
        types = [parse_record(r)[0].type for r in case_records]
        assert expected <= set(types)
        assert len({r.partition for r in case_records}) == 1, "one case's events must share a partition"
        assert all(r.header("traceparent") for r in case_records)
    # Yangpu is not involved in this case: it saw the catalogue item, and nothing of the case.
    yangpu = await read_topic(system.kafka.bootstrap, system.topic(YANGPU),
                              until=lambda rs: any(r.key == b"YRD-SB-0001" for r in rs))
    assert not [r for r in yangpu if r.key == case_id.encode()]

    topics = system.kafka.topics()
    for locality in (YANGPU, SUZHOU, "331000", BOZHOU):
        assert system.topic(locality) in topics
        assert system.topic(locality) + ".dlt" in topics
