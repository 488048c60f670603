"""Events of the catalogue service."""

from __future__ import annotations

from datetime import datetime
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
    committed_days_by_locality: dict[str, int] = Field(
        default_factory=dict,
        description="Committed time limit in working days of each locality with a business standard "
        "(``committed_days`` is the longest of them).",
    )

    def subject(self) -> str:
        return self.code


@event_type
class ListPublished(Event):
    """A version of a named list of items was published (it supersedes the list's previous version).

    The record key is the list's slug, so that the versions of one list keep their order.
    """

    type_name = "cn.tongban.catalogue.list.published"

    list_id: str = Field(min_length=1, max_length=80)
    slug: str = Field(min_length=1, max_length=64)
    list_version: int = Field(ge=1)
    name_zh: str
    name_en: str
    item_codes: list[str]
    item_revisions: dict[str, int] = Field(default_factory=dict, description="The revision of each item it pins.")
    published_at: datetime
    supersedes: str | None = None

    def subject(self) -> str:
        return self.slug


@event_type
class ItemWithdrawn(Event):
    """An item was withdrawn from the catalogue."""

    type_name = "cn.tongban.catalogue.item.withdrawn"

    code: str = Field(min_length=1, max_length=32)
    revision: int = Field(ge=1)
    reason: str = ""

    def subject(self) -> str:
        return self.code
