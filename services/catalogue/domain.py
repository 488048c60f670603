"""Rules of the catalogue's items: codes, modes, the item's life cycle. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

ItemStatus = Literal["draft", "published", "withdrawn"]
HANDLING_MODES = ("fully_online", "accepted_here_handled_there", "joint_handling")
OWNERSHIP_RULES = (
    "household_registration_place",
    "insured_place",
    "enterprise_registration_place",
    "property_location",
)
ITEM_CODE = re.compile(r"^YRD-[A-Z]{2}-\d{4}$")


class ItemRuleViolation(ValueError):
    """A change that the item's life cycle does not allow."""


@dataclass(frozen=True)
class Item:
    """A business item of the cross-provincial list."""

    code: str
    name_zh: str
    name_en: str
    area: str
    modes: tuple[str, ...]
    ownership_rule: str
    committed_days: int
    status: ItemStatus = "draft"
    revision: int = 0

    def edit(self, **changes: object) -> Item:
        """The item with ``changes``; a withdrawn item cannot be edited."""
        if self.status == "withdrawn":
            raise ItemRuleViolation(f"item {self.code} is withdrawn and cannot be edited")
        return replace(self, **changes, status="draft" if self.status == "draft" else self.status)  # type: ignore[arg-type]

    def publish(self) -> Item:
        """The item published, as its next revision."""
        if self.status == "withdrawn":
            raise ItemRuleViolation(f"item {self.code} is withdrawn; it cannot be published again")
        if not self.modes:
            raise ItemRuleViolation(f"item {self.code} supports no handling mode")
        return replace(self, status="published", revision=self.revision + 1)

    def withdraw(self) -> Item:
        """The item withdrawn; only a published item can be withdrawn."""
        if self.status != "published":
            raise ItemRuleViolation(f"item {self.code} is {self.status}; only a published item can be withdrawn")
        return replace(self, status="withdrawn", revision=self.revision + 1)
