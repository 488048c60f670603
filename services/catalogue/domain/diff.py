"""Field-by-field comparison of catalogue content. Pure.

Content (an item snapshot, a business standard) is flattened into paths such as
``committed_days``, ``materials[居民身份证].electronic_accepted`` or
``standards.341600.fee``; materials are keyed by name so that reordering them is no difference,
procedure steps by position. Two flattened contents are then compared path by path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_KEYED_LISTS = ("materials",)
_SKIP = ("illustrative",)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """The leaves of ``value`` by path. Lists of scalars are leaves; lists of objects are expanded."""
    out: dict[str, Any] = {}
    _flatten(value, prefix, out)
    return out


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key in _SKIP:
                continue
            _flatten(inner, f"{prefix}.{key}" if prefix else str(key), out)
        return
    if isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value):
        keyed = prefix.rsplit(".", 1)[-1] in _KEYED_LISTS
        for i, entry in enumerate(value, start=1):
            label = str(entry.get("name")) if keyed else str(i)
            rest = {k: v for k, v in entry.items() if not (keyed and k == "name")}
            _flatten(rest, f"{prefix}[{label}]", out)
        return
    if isinstance(value, list | tuple) and not value and prefix.rsplit(".", 1)[-1] in (*_KEYED_LISTS, "steps"):
        return  # no materials / no steps: the absent entries show as null on the other side
    out[prefix] = list(value) if isinstance(value, tuple) else value


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, ensure_ascii=False) == json.dumps(b, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Difference:
    """A path whose values differ between the compared sides (``None``: absent on that side)."""

    field: str
    values: dict[str, Any]


def compare(contents: Mapping[str, Any]) -> tuple[list[Difference], list[str]]:
    """Compare several contents (by side, e.g. by locality): the differing paths and the identical ones."""
    flats = {side: flatten(content) for side, content in contents.items()}
    paths: dict[str, None] = {}
    for flat in flats.values():
        paths.update(dict.fromkeys(flat))
    differences: list[Difference] = []
    identical: list[str] = []
    for path in paths:
        values = {side: flat.get(path) for side, flat in flats.items()}
        first, *rest = list(values.values()) or [None]
        if all(_same(first, v) for v in rest):
            identical.append(path)
        else:
            differences.append(Difference(path, values))
    return differences, identical


@dataclass(frozen=True)
class Change:
    """One path changed from one content to another."""

    field: str
    before: Any
    after: Any


def changes(before: Any, after: Any) -> list[Change]:
    """The paths that differ from ``before`` to ``after``."""
    differences, _ = compare({"before": before, "after": after})
    return [Change(d.field, d.values["before"], d.values["after"]) for d in differences]
