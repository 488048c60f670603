"""The full content of an item (fields, standards, procedures) as plain data. Pure.

A snapshot is what an item revision records, what a list diff compares and what an import
compares to decide whether anything changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.catalogue.domain.items import HANDLING_MODES, Item
from services.catalogue.domain.standards import Procedure, Standard


def snapshot(item: Item, standards: Iterable[Standard], procedures: Iterable[Procedure]) -> dict[str, Any]:
    """The item's content as plain, canonically ordered data."""
    by_locality = {s.locality: s.content() for s in sorted(standards, key=lambda s: s.locality)}
    by_mode = {p.mode: p.content() for p in sorted(procedures, key=lambda p: HANDLING_MODES.index(p.mode))}
    return {"code": item.code, **item.content(), "standards": by_locality, "procedures": by_mode}
