"""Events of the catalogue service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.envelope import Event, event_type

HandlingMode = Literal["fully_online", "accepted_here_handled_there", "joint_handling"]
OwnershipRule = Literal[
    "household_registration_place",
    "insured_place",
    "enterprise_registration_place",
    "property_location",
]


@event_type
class ItemPublished(Event):
    """An item of the catalogue was published (or republished with changes)."""

    type_name = "cn.tongban.catalogue.item.published"

    code: str = Field(min_length=1, max_length=32)
    name_zh: str
    name_en: str
    area: str
    modes: list[HandlingMode]
    ownership_rule: OwnershipRule
    committed_days: int = Field(ge=0)
    revision: int = Field(ge=1)

    def subject(self) -> str:
        return self.code


@event_type
class ItemWithdrawn(Event):
    """An item was withdrawn from the catalogue."""

    type_name = "cn.tongban.catalogue.item.withdrawn"

    code: str = Field(min_length=1, max_length=32)
    revision: int = Field(ge=1)
    reason: str = ""

    def subject(self) -> str:
        return self.code
