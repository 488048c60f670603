"""GB/T 2260 administrative division codes, with the years each was in force. Pure: data only.

The list ships as ``services/routing/data/gbt2260.json`` (built by ``build_divisions.py`` beside it,
which names its source). An identity number carries the code of the place where it was first issued,
as that code stood then; a code later retired stays valid in the numbers of people registered while it
existed. A unified social credit code (GB 32100, from 2015) carries the registering authority's code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

FIRST_LIST = 1980
"""The year of the first published list: a period without a first year began by then."""
USCC_SINCE = 2015
"""GB 32100-2015: no credit code is older than this year."""


@dataclass(frozen=True)
class Period:
    """One span of years in which a code stood for a division (``last`` None: still in force)."""

    first: int | None
    last: int | None
    name: str


@dataclass(frozen=True)
class DivisionList:
    """The codes ever listed and their periods."""

    codes: dict[str, tuple[Period, ...]]

    def known(self, code: str) -> bool:
        """Whether the code was ever listed."""
        return code in self.codes

    def in_force(self, code: str) -> bool:
        """Whether the code is in force today."""
        return any(p.last is None for p in self.codes.get(code, ()))

    def valid_for_birth(self, code: str, year: int) -> bool:
        """Whether a person born in ``year`` may carry ``code``: it is in force, or it existed after their
        birth (a number is issued at registration, under the code of that time; after a code's retirement
        nobody newly born is registered under it)."""
        return any(p.last is None or year <= p.last for p in self.codes.get(code, ()))

    def existed_since(self, code: str, year: int) -> bool:
        """Whether the code was in force at some time in or after ``year``."""
        return any(p.last is None or p.last >= year for p in self.codes.get(code, ()))

    def name(self, code: str) -> str | None:
        """The latest name of the code."""
        periods = self.codes.get(code)
        return periods[-1].name if periods else None


@cache
def divisions() -> DivisionList:
    """The shipped list (read once)."""
    raw = json.loads(resources.files("services.routing").joinpath("data/gbt2260.json").read_text("utf-8"))
    return DivisionList({code: tuple(Period(first, last, name) for first, last, name in periods)
                         for code, periods in raw["codes"].items()})
