"""CloudEvents envelopes in Kafka binary content mode."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.contracts.routing import CaseForwarded
from shared.envelope import Envelope, MalformedEvent, parse_record


def _record():  # type: ignore[no-untyped-def]
    event = CaseForwarded(case_id="c-1", accepting_locality="320505", owning_locality="341600",
                          material_hashes=["ab" * 32])
    return Envelope.wrap(event, "/tongban/routing", traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01") \
        .to_record("tongban.locality.341600")


def test_round_trip_in_binary_mode() -> None:
    record = _record()
    names = [k for k, _ in record.headers]
    assert names[:7] == ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"]
    assert record.key == b"c-1"
    assert record.header("ce_type") == "cn.tongban.routing.case.forwarded.v1"
    envelope, event = parse_record(record)
    assert isinstance(event, CaseForwarded) and event.owning_locality == "341600"
    assert envelope.traceparent and envelope.subject == "c-1"


def _without(record, name):  # type: ignore[no-untyped-def]
    return replace(record, headers=tuple(h for h in record.headers if h[0] != name))


def _with(record, name, value):  # type: ignore[no-untyped-def]
    return replace(record, headers=tuple((k, value if k == name else v) for k, v in record.headers))


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: _without(r, "ce_id"), "missing CloudEvents headers: ce_id"),
        (lambda r: _with(r, "ce_specversion", b"0.3"), "unsupported specversion"),
        (lambda r: _with(r, "content-type", b"application/cloudevents+json"), "structured content mode"),
        (lambda r: _with(r, "content-type", b"text/plain"), "unsupported content-type"),
        (lambda r: _with(r, "ce_time", b"yesterday"), "ce_time is not RFC 3339"),
        (lambda r: _with(r, "ce_type", b"cn.tongban.unknown.v1"), "unknown event type"),
        (lambda r: _with(r, "ce_source", b"\xff"), "is not UTF-8"),
        (lambda r: replace(r, value=b"{not json"), "data is not JSON"),
        (lambda r: replace(r, value=b"[1, 2]"), "data is not a JSON object"),
        (lambda r: replace(r, value=b'{"case_id": "c-1"}'), "invalid data for cn.tongban.routing.case.forwarded.v1"),
    ],
)
def test_malformed_records_say_why(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedEvent, match=reason):
        parse_record(mutate(_record()))
