"""Items of the catalogue: codes, handling modes, ownership rules and the item's life cycle. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from services.catalogue.domain.codes import check_national_code
from services.catalogue.domain.errors import InvalidContent, ItemRuleViolation
from services.catalogue.domain.text import clean_text

ItemStatus = Literal["draft", "published", "withdrawn"]
ITEM_STATUSES: tuple[ItemStatus, ...] = ("draft", "published", "withdrawn")
HANDLING_MODES = ("fully_online", "accepted_here_handled_there", "joint_handling")
"""全程网办; 异地代收代办 (accepted here, handled there); 多地联办 (joint handling)."""
WINDOW_MODES = ("accepted_here_handled_there", "joint_handling")
"""Modes in which an applicant goes to a window of a locality other than the owner."""
OWNERSHIP_RULES = (
    "household_registration_place",
    "insured_place",
    "enterprise_registration_place",
    "property_location",
)
ITEM_CODE = re.compile(r"^YRD-[A-Z]{2}-\d{4}$")
AREA_KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MODE_BITS = {mode: 1 << i for i, mode in enumerate(HANDLING_MODES)}
"""Each mode's bit in ``modes_mask`` (the store filters items by mode with it)."""


def modes_mask(modes: tuple[str, ...] | list[str]) -> int:
    """The bit mask of a set of handling modes."""
    mask = 0
    for mode in modes:
        mask |= MODE_BITS[mode]
    return mask


def check_modes(modes: tuple[str, ...]) -> tuple[str, ...]:
    """The modes in canonical order, without repeats; :class:`ItemRuleViolation` if one is unknown."""
    unknown = [m for m in modes if m not in MODE_BITS]
    if unknown:
        raise InvalidContent("modes", f"unknown handling mode {unknown[0]!r}; one of {', '.join(HANDLING_MODES)}")
    return tuple(m for m in HANDLING_MODES if m in modes)


_LICENCE_TYPE_CODE = re.compile(r"^[0-9A-Za-z\-.]{1,32}$")


def check_licence_types(types: Any) -> tuple[tuple[str, str], ...]:
    """An item's licence types as (code, name) pairs: codes unique and well-formed, names given, at most 20."""
    pairs = tuple((str(t["code"]), str(t["name"])) if isinstance(t, dict) else (str(t[0]), str(t[1]))
                  for t in types)
    if len(pairs) > 20:
        raise InvalidContent("licence_types", "at most 20 licence types")
    for code, _name in pairs:
        if not _LICENCE_TYPE_CODE.match(code):
            raise InvalidContent("licence_types", f"licence type code {code!r} must match {_LICENCE_TYPE_CODE.pattern}")
    if len({c for c, _n in pairs}) != len(pairs):
        raise InvalidContent("licence_types", "a licence type code appears twice")
    return tuple((c, clean_text("licence_types", n, 200)) for c, n in pairs)


@dataclass(frozen=True)
class Item:
    """A business item of the cross-provincial list.

    ``committed_days`` is the item's headline committed time limit: the longest of its localities'
    committed time limits once it has business standards, the value set on the item before that.
    ``revision`` counts the item's published revisions: publishing, changing a published item and
    withdrawing each make the next one.
    """

    code: str
    name_zh: str
    name_en: str
    area: str
    modes: tuple[str, ...]
    ownership_rule: str
    committed_days: int
    status: ItemStatus = "draft"
    revision: int = 0
    keywords: tuple[str, ...] = ()
    illustrative: bool = False
    national_code: str = ""
    """The national basic-catalogue code (基本目录, GB/T 39554.1-2020); "" while unknown."""
    licence_types: tuple[tuple[str, str], ...] = ()
    """The electronic licences (电子证照) the item's result may be: (type code, type name), docs/licences.md."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "national_code", check_national_code(self.national_code))
        if not ITEM_CODE.match(self.code):
            raise InvalidContent("code", f"item code {self.code!r} does not match {ITEM_CODE.pattern}")
        object.__setattr__(self, "name_zh", clean_text("name_zh", self.name_zh, 200))
        object.__setattr__(self, "name_en", clean_text("name_en", self.name_en, 300))
        keywords = tuple(clean_text("keywords", k, 100) for k in self.keywords)
        if any(";" in k or "；" in k for k in keywords):
            raise InvalidContent("keywords", "a keyword may not hold ';'")
        if len(keywords) > 30:
            raise InvalidContent("keywords", "at most 30 keywords")
        object.__setattr__(self, "keywords", tuple(dict.fromkeys(keywords)))
        if self.ownership_rule not in OWNERSHIP_RULES:
            raise InvalidContent(
                "ownership_rule", f"unknown ownership rule {self.ownership_rule!r}; one of {', '.join(OWNERSHIP_RULES)}"
            )
        if not AREA_KEY.match(self.area):
            raise InvalidContent("area", f"area {self.area!r} must match {AREA_KEY.pattern}")
        if not 0 <= self.committed_days <= 365:
            raise InvalidContent("committed_days", "must be between 0 and 365 working days")
        object.__setattr__(self, "modes", check_modes(tuple(self.modes)))
        object.__setattr__(self, "licence_types", check_licence_types(self.licence_types))

    @property
    def modes_mask(self) -> int:
        """The bit mask of the item's modes."""
        return modes_mask(self.modes)

    def content(self) -> dict[str, object]:
        """The fields a maintainer edits (what a change compares), in a canonical form."""
        return {
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "area": self.area,
            "modes": list(self.modes),
            "ownership_rule": self.ownership_rule,
            "committed_days": self.committed_days,
            "keywords": list(self.keywords),
            "illustrative": self.illustrative,
            "national_code": self.national_code,
            **({"licence_types": [{"code": c, "name": n} for c, n in self.licence_types]}
               if self.licence_types else {}),
        }

    def edit(self, **changes: object) -> Item:
        """The item with ``changes``: a draft stays a draft; a published item becomes its next revision.

        A withdrawn item cannot be edited. Changes that change nothing give the same item back.
        """
        if self.status == "withdrawn":
            raise ItemRuleViolation(f"item {self.code} is withdrawn and cannot be edited")
        if "modes" in changes:
            changes["modes"] = check_modes(tuple(changes["modes"]))  # type: ignore[arg-type]
        if "keywords" in changes:
            changes["keywords"] = tuple(changes["keywords"])  # type: ignore[arg-type]
        changed = replace(self, **changes)  # type: ignore[arg-type]
        if changed.content() == self.content():
            return self
        return changed.revised()

    def revised(self) -> Item:
        """The item after a change of its content (or of its standards or procedures)."""
        if self.status == "withdrawn":
            raise ItemRuleViolation(f"item {self.code} is withdrawn and cannot be changed")
        return replace(self, revision=self.revision + 1) if self.status == "published" else self

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
