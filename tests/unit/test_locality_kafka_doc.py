"""The locality engineers' page on consuming Kafka names every event type and its model."""

from __future__ import annotations

import re
from pathlib import Path

import shared.contracts  # noqa: F401  (registers every event type)
from shared.envelope import EVENT_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "locality-kafka.md"


def test_the_page_lists_every_event_type_with_its_model() -> None:
    rows = re.findall(r"^\| `(cn\.tongban\.[a-z_.0-9]+)` \| `([A-Za-z]+)` \|", DOC.read_text(encoding="utf-8"),
                      flags=re.MULTILINE)
    assert rows, "no event type rows found in docs/locality-kafka.md"
    published = {name: cls.__name__ for name, cls in EVENT_TYPES.items()
                 if cls.__module__.startswith("shared.contracts")}  # not the tests' own event types
    assert dict(rows) == published
    assert len(rows) == len(dict(rows)), "an event type is listed twice"
