"""A fifth locality joins by configuration alone: its topics exist and its events flow."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import read_topic, wait_for

WUXI = {"code": "320200", "name_zh": "江苏省无锡市", "name_en": "Wuxi, Jiangsu",
        "province_zh": "江苏省", "province_en": "Jiangsu"}


async def test_fifth_locality_by_configuration(start_system: SystemFactory, tmp_path: Path) -> None:
    localities = tmp_path / "localities.json"
    localities.write_text(json.dumps([WUXI], ensure_ascii=False), encoding="utf-8")
    system = await start_system("catalogue", "routing", env={"TONGBAN_LOCALITIES_FILE": str(localities)})
    await activate(system, ["320200", "341600"])
    topics = system.kafka.topics()
    assert system.topic("320200") in topics and system.topic("320200") + ".dlt" in topics

    item = {"code": "YRD-YB-0001", "name_zh": "异地就医备案", "name_en": "Filing for medical treatment elsewhere",
            "area": "medical_insurance", "modes": ["fully_online"], "ownership_rule": "insured_place",
            "committed_days": 1}
    async with httpx.AsyncClient(timeout=10, headers=await system.headers("320200")) as http:
        regional = await system.headers(REGIONAL)
        assert (await http.post(system.url("catalogue") + "/v1/items", json=item, headers=regional)).status_code == 201
        assert (await http.post(system.url("catalogue") + "/v1/items/YRD-YB-0001/publish",
                                headers=regional)).status_code == 200
        submission = {"item_code": "YRD-YB-0001", "mode": "fully_online",
                      "ownership": {"insured_place": ["341602"]}, "applicant_id": "11010519491231002X"}
        created: list[httpx.Response] = []

        async def accepted() -> bool:
            created.append(await http.post(system.url("routing") + "/v1/cases", json=submission))
            return created[-1].status_code == 201

        await wait_for(accepted, timeout=30, interval=0.3)
        unknown = dict(submission, ownership={"insured_place": ["320300"]})
        refused = await http.post(system.url("routing") + "/v1/cases", json=unknown)
        assert refused.status_code == 422 and refused.json()["type"].endswith("owner-not-found")
    case_id = created[-1].json()["id"].encode()
    records = await read_topic(system.kafka.bootstrap, system.topic("320200"),
                               until=lambda rs: any(r.key == case_id for r in rs))
    assert any(r.key == b"YRD-YB-0001" for r in records), "the catalogue's item reached the new locality"
