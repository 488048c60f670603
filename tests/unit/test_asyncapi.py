"""The AsyncAPI 3.0 document of the events: valid against the specification's schema, and complete."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from shared import asyncapi
from shared.envelope import EVENT_TYPES
from shared.localities import BUILT_IN, Locality, LocalityRegistry
from tongban.registry import event_consumers

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "asyncapi" / "3.0.0.json").read_text(encoding="utf-8"))


def published() -> set[str]:
    """The event types of the published language (tests may register types of their own)."""
    return {t for t, cls in EVENT_TYPES.items() if cls.__module__.startswith("shared.contracts")}


@pytest.fixture(scope="module")
def document() -> dict:
    return asyncapi.build(LocalityRegistry(BUILT_IN), event_consumers())


def test_the_document_validates_against_the_asyncapi_3_schema(document: dict) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(document)


def test_an_invalid_document_is_refused_by_the_same_check(document: dict) -> None:
    """The check can fail: an operation without its action is not AsyncAPI."""
    broken = json.loads(json.dumps(document))
    del next(iter(broken["operations"].values()))["action"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(broken)


def test_every_event_type_of_the_contracts_is_a_message_on_every_locality_topic(document: dict) -> None:
    assert len(published()) >= 20  # the published language as of this test (grows, never shrinks)
    names = {m["name"] for m in document["components"]["messages"].values()}
    missing = published() - names
    assert not missing, f"event types missing from the AsyncAPI document: {sorted(missing)}"
    for code in ("310110", "320505", "331000", "341600"):
        channel = document["channels"][f"locality-{code}"]
        assert channel["address"] == f"tongban.locality.{code}"
        assert {document["components"]["messages"][k]["name"] for k in channel["messages"]} == published()
        assert document["channels"][f"locality-{code}-dlt"]["address"] == f"tongban.locality.{code}.dlt"


def test_each_message_carries_its_schema_version_and_cloudevents_headers(document: dict) -> None:
    messages = document["components"]["messages"]
    submitted = messages["routing.case.submitted.v1"]
    assert submitted["x-tongban-version"] == 1 and submitted["x-tongban-publisher"] == "routing"
    payload = document["components"]["schemas"][submitted["payload"]["$ref"].rsplit("/", 1)[1]]
    assert {"case_id", "item_code", "accepting_locality", "owning_localities"} <= set(payload["properties"])
    headers = document["components"]["schemas"]["CloudEventHeaders"]
    assert {"ce_id", "ce_type", "ce_source", "ce_time", "ce_subject"} <= set(headers["required"])
    # Every $ref in the document points at something that exists.
    text = json.dumps(document)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        node: object = document
        for step in ref.removeprefix("#/").split("/"):
            assert isinstance(node, dict) and step in node, f"dangling $ref {ref}"
            node = node[step]


def test_publishers_and_consumers_follow_the_services(document: dict) -> None:
    operations = document["operations"]
    routing_sends = operations["routing-sends-to-341600"]
    assert routing_sends["action"] == "send"
    assert all("/messages/routing." in m["$ref"] for m in routing_sends["messages"])
    delivery_reads = operations["delivery-receives-from-341600"]
    assert delivery_reads["action"] == "receive"
    assert any(m["$ref"].endswith("routing.case.forwarded.v1") for m in delivery_reads["messages"])
    assert operations["dashboard-receives-from-341600"]["messages"]  # the dashboard reads every type


def test_a_fifth_locality_gets_its_channels() -> None:
    fifth = Locality(code="340100", name_zh="安徽省合肥市", name_en="Hefei, Anhui", province_zh="安徽省",
                     province_en="Anhui")
    document = asyncapi.build(LocalityRegistry([*BUILT_IN, fifth]), event_consumers())
    jsonschema.Draft7Validator(SCHEMA).validate(document)
    assert document["channels"]["locality-340100"]["address"] == "tongban.locality.340100"


def test_the_written_consumers_are_those_of_the_services() -> None:
    """A service process reads tongban/event_consumers.json (not every service's code): it must be current.

    Stale? Run ``python -m tongban.registry``."""
    from tongban.registry import declared_consumers

    assert declared_consumers() == event_consumers()
