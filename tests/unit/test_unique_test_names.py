"""pytest imports test modules by their basename (rootdir-relative packages aside): two test files of the
same name in different folders stop the whole run at collection. Keep every basename unique."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_module_has_a_basename_of_its_own() -> None:
    places: defaultdict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        places[path.name].append(str(path.relative_to(TESTS)))
    assert places, "no test modules found"
    assert {name: where for name, where in places.items() if len(where) > 1} == {}
