"""Reference data of the delivery service, read from the JSON files beside this module.

``carriers.json`` (carriers and their own numbering), ``targets.json`` (delivery time targets per
pair of localities) and ``offices.json`` (the windows' and departments' postal addresses).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.delivery.domain import Address, Carrier, DeliveryTargets, validate_address

HERE = Path(__file__).parent


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Reference:
    """Carriers, delivery targets and office addresses."""

    carriers: dict[str, Carrier]
    default_carrier: str
    targets: DeliveryTargets
    offices: dict[str, dict[str, Address]]

    def carrier(self, code: str) -> Carrier | None:
        """The carrier ``code``, or None."""
        return self.carriers.get(code)

    def office(self, locality: str, kind: str) -> Address | None:
        """The ``window`` or ``department`` address of a locality, if known."""
        return self.offices.get(locality, {}).get(kind)


@lru_cache
def reference() -> Reference:
    """The reference data, read once (addresses validated)."""
    carriers = _load("carriers.json")
    offices = _load("offices.json")["offices"]
    return Reference(
        carriers={c["code"]: Carrier(c["code"], c["name"], c.get("own_number_pattern"))
                  for c in carriers["carriers"]},
        default_carrier=carriers["default"],
        targets=DeliveryTargets.from_dict(_load("targets.json")),
        offices={code: {kind: validate_address(Address.from_dict(a)) for kind, a in places.items()}
                 for code, places in offices.items()},
    )
