"""Poison messages on a locality topic land in its dead-letter topic; the consumer goes on."""

from __future__ import annotations

import httpx

from shared.contracts.catalogue import ItemPublished
from shared.envelope import Envelope
from tests.integration.conftest import SystemFactory
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import produce_raw, read_topic, wait_for

BOZHOU = "341600"


async def test_malformed_records_are_dead_lettered_and_the_next_event_is_handled(
    start_system: SystemFactory,
) -> None:
    system = await start_system("routing")
    await activate(system, ["320505", BOZHOU])
    topic = system.topic(BOZHOU)
    bootstrap = system.kafka.bootstrap
    await produce_raw(bootstrap, topic, b"\xff\xfe not an event", key=b"junk")
    unknown = Envelope.wrap(
        ItemPublished(code="YRD-SB-0002", name_zh="x", name_en="x", area="social_security",
                      modes=["fully_online"], ownership_rule="insured_place", committed_days=1, revision=1),
        "/tongban/test",
    )
    unknown_headers = [(k, v if k != "ce_type" else b"cn.tongban.nobody.knows.v9") for k, v in unknown.headers()]
    await produce_raw(bootstrap, topic, unknown.value(), key=b"YRD-SB-0002", headers=unknown_headers)
    bad_data = [(k, v) for k, v in unknown.headers()]
    await produce_raw(bootstrap, topic, b'{"code": 5}', key=b"YRD-SB-0003", headers=bad_data)

    good = Envelope.wrap(
        ItemPublished(code="YRD-SB-0001", name_zh="社会保障卡申领", name_en="Social security card application",
                      area="social_security", modes=["fully_online"], ownership_rule="insured_place",
                      committed_days=5, revision=1),
        "/tongban/catalogue",
    )
    record = good.to_record(topic)
    await produce_raw(bootstrap, topic, record.value, key=record.key, headers=list(record.headers))

    bad_keys = {b"junk", b"YRD-SB-0002", b"YRD-SB-0003"}

    def each_group_letters_each(records: list) -> bool:  # type: ignore[type-arg]
        seen = {(r.header("tongban_dlt_group"), r.key) for r in records}
        return all((g, k) in seen for g in ("tongban-routing", "tongban-authorization") for k in bad_keys)

    letters = await read_topic(bootstrap, topic + ".dlt", until=each_group_letters_each)
    letters = [r for r in letters if r.header("tongban_dlt_group") == "tongban-routing"]
    assert len(letters) == 3, "each group dead-letters each bad record once"
    reasons = {r.key: r.header("tongban_dlt_reason") or "" for r in letters}
    assert reasons[b"junk"].startswith("missing CloudEvents headers"), reasons
    assert reasons[b"YRD-SB-0002"] == "unknown event type 'cn.tongban.nobody.knows.v9'"
    assert reasons[b"YRD-SB-0003"].startswith("invalid data for cn.tongban.catalogue.item.published.v1")
    assert all(r.header("tongban_dlt_topic") == topic for r in letters)

    async with httpx.AsyncClient(timeout=10, headers=await system.headers("320505")) as http:
        submission = {"item_code": "YRD-SB-0001", "mode": "fully_online",
                      "ownership": {"insured_place": [BOZHOU]}, "applicant_id": "11010519491231002X"}

        async def accepted() -> bool:
            response = await http.post(f"{system.url('routing')}/v1/cases", json=submission)
            return response.status_code == 201

        await wait_for(accepted, timeout=30, interval=0.3)
        metrics = (await http.get(f"{system.url('routing')}/metrics")).text
    assert 'tongban_events_handled_total{type="cn.tongban.catalogue.item.published.v1"} 1.0' in metrics
