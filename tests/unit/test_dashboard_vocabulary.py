"""Every event type that shared/contracts registers has a name in Chinese and in English on the dashboard."""

from __future__ import annotations

import re

import shared.contracts  # noqa: F401  (registers every event type)
from services.dashboard.domain import base_type
from services.dashboard.domain.vocabulary import EVENT_TYPE_NAMES
from shared.envelope import EVENT_TYPES

CJK = re.compile(r"[\u4e00-\u9fff]")


def registered() -> list[str]:
    """The registered types of shared/contracts (test events of the suite left out), without version."""
    return sorted({base_type(t) for t, cls in EVENT_TYPES.items() if cls.__module__.startswith("shared.contracts")})


def test_the_registry_is_enumerated() -> None:
    types = registered()
    assert len(types) >= 20, types
    assert "cn.tongban.catalogue.list.published" in types


def test_every_registered_event_type_has_a_chinese_and_an_english_name() -> None:
    missing = [t for t in registered() if t not in EVENT_TYPE_NAMES]
    assert not missing, f"event types without a name in services/dashboard/domain/vocabulary.py: {missing}"
    for ce_type in registered():
        zh, en = EVENT_TYPE_NAMES[ce_type]
        assert CJK.search(zh) and not zh.startswith("cn."), f"{ce_type}: Chinese name {zh!r}"
        assert en.strip() and en.isascii() and not CJK.search(en) and not en.startswith("cn."), (
            f"{ce_type}: English name {en!r}")


def test_names_are_distinct_and_none_is_left_for_a_type_that_is_gone() -> None:
    assert set(EVENT_TYPE_NAMES) <= set(registered()), set(EVENT_TYPE_NAMES) - set(registered())
    for language in (0, 1):
        names = [pair[language] for pair in EVENT_TYPE_NAMES.values()]
        assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
