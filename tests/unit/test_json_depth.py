"""The JSON depth bound (shared/bounded_json.py) agrees with the real depth of any document, brackets in strings too."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.bounded_json import JsonTooDeep, json_depth_exceeds, loads_json

tricky_text = st.text(alphabet='[]{}"\\ab,:\n\u4e2d', max_size=12)
documents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), tricky_text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(tricky_text, inner, max_size=3)),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=500, deadline=None, database=None)
@given(document=documents, bound=st.integers(min_value=2, max_value=12), ascii_only=st.booleans())
def test_the_bound_matches_the_real_depth(document: Any, bound: int, ascii_only: bool) -> None:
    data = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert json_depth_exceeds(data, bound) is (depth(document) > bound)


def test_a_hundred_thousand_brackets_are_refused_quickly() -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    started = time.perf_counter()
    assert json_depth_exceeds(data, 64)
    with pytest.raises(JsonTooDeep):
        loads_json(data, 64)
    flat = b"[" + b"[]," * 600_000 + b"[]]"  # 1.8 MB, depth 2: the worst a body under the cap can cost
    assert not json_depth_exceeds(flat, 64)
    assert time.perf_counter() - started < 5


def test_unbalanced_brackets_are_refused() -> None:
    assert json_depth_exceeds(b"[" * 100 + b"}" * 100, 64)
