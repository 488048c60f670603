"""The lock files (requirements/*.lock) pin every dependency of pyproject.toml, with hashes, in one resolution.

``make lock`` writes them; ``make run``, ``make test`` and deploy/Dockerfile install only from them
(``pip install --require-hashes``). A dependency added to pyproject.toml without ``make lock``
fails here, before an install would quietly miss it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
RUNTIME, TEST = REPO / "requirements" / "runtime.lock", REPO / "requirements" / "test.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _pins(lock: Path) -> dict[str, str]:
    """Name → pinned version, checking that every requirement carries a hash."""
    pins: dict[str, str] = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text(encoding="utf-8"))
    for entry in entries:
        match = _PIN.match(entry)
        if match is None:
            continue
        assert "--hash=sha256:" in entry, f"{lock.name}: {match.group(1)} has no hash"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _project() -> dict[str, list[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"runtime": project["dependencies"], "test": project["optional-dependencies"]["test"]}


@pytest.mark.parametrize(("lock", "groups"), [(RUNTIME, ("runtime",)), (TEST, ("runtime", "test"))])
def test_every_dependency_is_pinned_within_its_range(lock: Path, groups: tuple[str, ...]) -> None:
    pins = _pins(lock)
    declared = [Requirement(line) for group in groups for line in _project()[group]]
    missing = [str(r) for r in declared if canonicalize_name(r.name) not in pins]
    assert not missing, f"{lock.name} lacks {missing}: run `make lock`"
    outside = [f"{r} (locked {pins[canonicalize_name(r.name)]})" for r in declared
               if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)]
    assert not outside, f"{lock.name} pins versions pyproject.toml no longer allows: {outside}: run `make lock`"


def test_both_locks_are_one_resolution() -> None:
    runtime, test = _pins(RUNTIME), _pins(TEST)
    differ = {name: (version, test.get(name)) for name, version in runtime.items() if test.get(name) != version}
    assert not differ, f"runtime.lock and test.lock disagree: {differ}: run `make lock`"
    assert "setuptools" in runtime, "the build backend is locked too (installs use --no-build-isolation)"
