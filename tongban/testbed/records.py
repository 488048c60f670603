"""Records a raw producer injects: malformed ones, with the reason each is dead-lettered for."""

from __future__ import annotations

import uuid

from shared.contracts.catalogue import ItemPublished
from shared.envelope import Envelope, Record
from shared.settings import SERVICE_NAMES

GROUPS = tuple(f"tongban-{name}" for name in SERVICE_NAMES)
"""The consumer groups of the services: each reads every locality topic."""
_BASE = Envelope.wrap(ItemPublished(code="YRD-ZZ-0001", name_zh="假", name_en="fake", area="social_security",
                                    modes=["fully_online"], ownership_rule="insured_place", committed_days=1,
                                    revision=99), "/tongban/intruder")


def _headers(**changes: bytes | None) -> list[tuple[str, bytes]]:
    """The headers of a valid envelope, with some replaced (or dropped, when None)."""
    kept = [(k, changes.get(k, v)) for k, v in _BASE.headers() if changes.get(k, v) is not None]
    return [(k, v) for k, v in kept if v is not None]


MALFORMED: dict[str, tuple[bytes | None, list[tuple[str, bytes]], str]] = {
    # name: (value, headers, the start of the dead-letter reason)
    "garbage": (b"\xff\xfe\x00 not an event", [], "missing CloudEvents headers"),
    "no-content-type": (_BASE.value(), _headers(**{"content-type": None}), "unsupported content-type ''"),
    "wrong-content-type": (_BASE.value(), _headers(**{"content-type": b"text/plain"}), "unsupported content-type"),
    "structured-mode": (_BASE.value(), _headers(**{"content-type": b"application/cloudevents+json"}),
                        "structured content mode is not accepted"),
    "unknown-type": (_BASE.value(), _headers(ce_type=b"cn.tongban.nobody.knows.v9"), "unknown event type"),
    "invalid-data": (b'{"code": 5}', _headers(), "invalid data for cn.tongban.catalogue.item.published.v1"),
    "not-json": (b"{\"code\": ", _headers(), "data is not JSON"),
    "not-an-object": (b"[1, 2, 3]", _headers(), "data is not a JSON object"),
    "bad-time": (_BASE.value(), _headers(ce_time=b"yesterday"), "ce_time is not RFC 3339"),
    "old-specversion": (_BASE.value(), _headers(ce_specversion=b"0.3"), "unsupported specversion"),
    "header-not-utf8": (_BASE.value(), _headers(ce_source=b"\xff\xfe"), "header ce_source is not UTF-8"),
    "tombstone": (None, _headers(), "data is not JSON"),
}


def with_new_id(record: Record) -> list[tuple[str, bytes]]:
    """The headers of a record under a new event id: the same fact, told again as a new event."""
    return [(k, str(uuid.uuid4()).encode() if k == "ce_id" else v) for k, v in record.headers]
