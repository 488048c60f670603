"""Events of the catalogue service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.envelope import Event, event_type

HandlingMode = Literal["fully_online", "accepted_here_handled_there", "joint_handling"]
MaterialForm = Literal["original", "copy", "original_and_copy", "electronic"]
"""The forms of a material, one vocabulary for the catalogue and routing: 原件 (original), 复印件 (copy),
原件及复印件 (original and copy), 电子件 (electronic). A business standard names one of the paper forms and
whether an electronic file is accepted instead; a window declares the form it received."""
MATERIAL_FORMS: tuple[str, ...] = ("original", "copy", "original_and_copy", "electronic")
PAPER_FORMS: tuple[str, ...] = ("original", "copy", "original_and_copy")


class MaterialCommitment(BaseModel):
    """A written commitment the standard accepts in place of a material (告知承诺制, 国办发〔2020〕42号)."""

    text: str = Field(min_length=1, max_length=2000, description="The commitment's text the department publishes.")
    verify_days: int = Field(ge=1, le=365, description="Working days the owner has to verify it after acceptance.")
    excludes_prior_false: bool = Field(
        default=True, description="An applicant with a commitment found false for the item may not commit again.")


class StandardMaterial(BaseModel):
    """A material one locality's business standard requires (as routing checks a case against it)."""

    name: str
    form: Literal["original", "copy", "original_and_copy"] = "original"
    count: int = Field(default=1, ge=1, le=99)
    electronic_accepted: bool = False
    commitment: MaterialCommitment | None = Field(
        default=None, description="Whether, and how, a written commitment may replace the material.")


OwnershipRule = Literal[
    "household_registration_place",
    "insured_place",
    "enterprise_registration_place",
    "property_location",
]


class LicenceTypeRef(BaseModel):
    """A type of electronic licence an item's result may be: its code and name (docs/licences.md)."""

    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)


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
    materials_by_locality: dict[str, list[StandardMaterial]] = Field(
        default_factory=dict,
        description="The materials each locality's business standard requires (routing checks cases at acceptance).",
    )
    national_code: str = Field(default="", max_length=40, description=(
        "The national basic-catalogue code (基本目录, GB/T 39554.1-2020); empty while unknown."))
    implementation_codes_by_locality: dict[str, str] = Field(default_factory=dict, description=(
        "Each locality's implementation code of the item (实施清单, GB/T 39554.1-2020), where known."))
    licence_types: list[LicenceTypeRef] = Field(
        default_factory=list,
        description="The electronic licences (电子证照) the item's result may be (routing checks a result's licence).",
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
