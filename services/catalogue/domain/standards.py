"""Business standards (per item and locality), handling procedures and windows. Pure: no I/O.

A business standard says what one locality requires for one item: the competent department, the
materials, the conditions, the legal and the committed time limits in working days, the fee and
the legal basis. A procedure lists the ordered steps of an item in one handling mode, each with
the role and the locality that performs it. A window is a locality's cross-provincial counter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from services.catalogue.domain.codes import check_implementation_code
from services.catalogue.domain.errors import InvalidContent
from services.catalogue.domain.items import HANDLING_MODES, ITEM_CODE
from services.catalogue.domain.text import clean_text
from shared.contracts.catalogue import PAPER_FORMS

MaterialForm = Literal["original", "copy", "original_and_copy"]
MATERIAL_FORMS: tuple[str, ...] = PAPER_FORMS
"""原件; 复印件; 原件及复印件: the paper forms of the shared vocabulary (shared/contracts/catalogue.py); a
standard says beside it whether an electronic file (``electronic``) is accepted instead."""
STEP_ROLES: tuple[str, ...] = ("applicant", "window_clerk", "department_officer", "carrier")
STEP_LOCALITIES: tuple[str, ...] = ("accepting", "owning", "every_owning")
"""Where a step happens, relative to a case: the accepting window's locality, the owner, or every
owner of a joint case. A step may also name one locality by its GB/T 2260 code."""
LOCALITY_CODE = re.compile(r"^[1-8]\d{5}$")
WINDOW_ID = re.compile(r"^W-[1-8]\d{5}-\d{2}$")
MAX_DAYS = 365


def _days(field_name: str, value: int) -> int:
    if not 0 <= value <= MAX_DAYS:
        raise InvalidContent(field_name, f"must be between 0 and {MAX_DAYS} working days")
    return value


@dataclass(frozen=True)
class CommitmentRule:
    """A written commitment the standard accepts in place of a material (告知承诺制, 国办发〔2020〕42号): the
    text the department publishes, the working days the owner has to verify it, and whether an applicant
    with a commitment found false for the item is refused the option."""

    text: str
    verify_days: int
    excludes_prior_false: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", clean_text("commitment.text", self.text, 2000, multiline=True))
        if not 1 <= self.verify_days <= MAX_DAYS:
            raise InvalidContent("commitment.verify_days", f"must be between 1 and {MAX_DAYS} working days")

    def as_dict(self) -> dict[str, Any]:
        """The rule as plain data."""
        return {"text": self.text, "verify_days": self.verify_days, "excludes_prior_false": self.excludes_prior_false}

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> CommitmentRule | None:
        """A rule from plain data (None: no commitment may replace the material)."""
        if not data:
            return None
        return cls(str(data["text"]), int(data["verify_days"]), bool(data.get("excludes_prior_false", True)))


@dataclass(frozen=True)
class Material:
    """A material the applicant hands in (or, where ``commitment`` says so, commits to in writing)."""

    name: str
    form: str = "original"
    count: int = 1
    electronic_accepted: bool = False
    note: str = ""
    commitment: CommitmentRule | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_text("name", self.name, 200))
        object.__setattr__(self, "note", clean_text("note", self.note, 500, required=False))
        if self.form not in MATERIAL_FORMS:
            raise InvalidContent("form", f"unknown form {self.form!r}; one of {', '.join(MATERIAL_FORMS)}")
        if not 1 <= self.count <= 99:
            raise InvalidContent("count", "must be between 1 and 99")

    def as_dict(self) -> dict[str, Any]:
        """The material as plain data (``commitment`` only where one may replace it)."""
        return {"name": self.name, "form": self.form, "count": self.count,
                "electronic_accepted": self.electronic_accepted, "note": self.note,
                **({"commitment": self.commitment.as_dict()} if self.commitment else {})}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Material:
        """A material from plain data."""
        return cls(str(data["name"]), str(data.get("form", "original")), int(data.get("count", 1)),
                   bool(data.get("electronic_accepted", False)), str(data.get("note", "")),
                   CommitmentRule.of(data.get("commitment")))


@dataclass(frozen=True)
class Standard:
    """The business standard of one item in one locality."""

    item_code: str
    locality: str
    competent_department: str
    legal_days: int
    committed_days: int
    materials: tuple[Material, ...] = ()
    conditions: tuple[str, ...] = ()
    fee: str = "不收费"
    legal_basis: tuple[str, ...] = ()
    illustrative: bool = False
    note: str = ""
    implementation_code: str = ""
    """The locality's implementation code of the item (实施清单, GB/T 39554.1-2020); "" while unknown."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "implementation_code", check_implementation_code(self.implementation_code))
        if not ITEM_CODE.match(self.item_code):
            raise InvalidContent("item_code", f"{self.item_code!r} is not an item code")
        if not LOCALITY_CODE.match(self.locality):
            raise InvalidContent("locality", f"{self.locality!r} is not a GB/T 2260 code")
        object.__setattr__(self, "competent_department",
                           clean_text("competent_department", self.competent_department, 200))
        object.__setattr__(self, "fee", clean_text("fee", self.fee, 200))
        object.__setattr__(self, "note", clean_text("note", self.note, 1000, required=False))
        _days("legal_days", self.legal_days)
        _days("committed_days", self.committed_days)
        if self.committed_days > self.legal_days:
            raise InvalidContent(
                "committed_days",
                f"the committed time limit ({self.committed_days}) exceeds the legal one ({self.legal_days})",
            )
        object.__setattr__(self, "conditions", _lines("conditions", self.conditions))
        object.__setattr__(self, "legal_basis", _lines("legal_basis", self.legal_basis))
        names = [m.name for m in self.materials]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InvalidContent("materials", f"material {repeated[0]!r} is listed twice")

    def content(self) -> dict[str, Any]:
        """The standard as plain data, without its item and locality (what a diff compares)."""
        return {
            "competent_department": self.competent_department,
            "materials": [m.as_dict() for m in self.materials],
            "conditions": list(self.conditions),
            "legal_days": self.legal_days,
            "committed_days": self.committed_days,
            "fee": self.fee,
            "legal_basis": list(self.legal_basis),
            "illustrative": self.illustrative,
            "note": self.note,
            "implementation_code": self.implementation_code,
        }

    @classmethod
    def of(cls, item_code: str, locality: str, data: dict[str, Any]) -> Standard:
        """A standard from plain data (as :meth:`content` gives it)."""
        return cls(
            item_code=item_code,
            locality=locality,
            competent_department=str(data["competent_department"]),
            legal_days=int(data["legal_days"]),
            committed_days=int(data["committed_days"]),
            materials=tuple(Material.of(m) for m in data.get("materials", [])),
            conditions=tuple(str(c) for c in data.get("conditions", [])),
            fee=str(data.get("fee", "不收费")),
            legal_basis=tuple(str(b) for b in data.get("legal_basis", [])),
            illustrative=bool(data.get("illustrative", False)),
            note=str(data.get("note", "")),
            implementation_code=str(data.get("implementation_code", "")),
        )


def _lines(field_name: str, lines: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    cleaned = tuple(clean_text(field_name, line, 500) for line in lines)
    if len(cleaned) > 50:
        raise InvalidContent(field_name, "holds more than 50 entries")
    return cleaned


@dataclass(frozen=True)
class ProcedureStep:
    """One step of a handling procedure."""

    name_zh: str
    name_en: str
    role: str
    locality: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name_zh", clean_text("name_zh", self.name_zh, 200))
        object.__setattr__(self, "name_en", clean_text("name_en", self.name_en, 300))
        if self.role not in STEP_ROLES:
            raise InvalidContent("role", f"unknown role {self.role!r}; one of {', '.join(STEP_ROLES)}")
        if self.locality not in STEP_LOCALITIES and not LOCALITY_CODE.match(self.locality):
            raise InvalidContent(
                "locality", f"{self.locality!r} is neither one of {', '.join(STEP_LOCALITIES)} nor a locality code"
            )

    def as_dict(self) -> dict[str, str]:
        """The step as plain data."""
        return {"name_zh": self.name_zh, "name_en": self.name_en, "role": self.role, "locality": self.locality}


@dataclass(frozen=True)
class Procedure:
    """The ordered steps of one item in one handling mode."""

    item_code: str
    mode: str
    steps: tuple[ProcedureStep, ...]
    illustrative: bool = False

    def __post_init__(self) -> None:
        if self.mode not in HANDLING_MODES:
            raise InvalidContent("mode", f"unknown handling mode {self.mode!r}")
        if not self.steps:
            raise InvalidContent("steps", "a procedure needs at least one step")
        if len(self.steps) > 50:
            raise InvalidContent("steps", "a procedure has at most 50 steps")

    def content(self) -> dict[str, Any]:
        """The procedure as plain data."""
        return {"steps": [s.as_dict() for s in self.steps], "illustrative": self.illustrative}


@dataclass(frozen=True)
class Window:
    """A locality's cross-provincial special window and the items it accepts."""

    id: str
    locality: str
    name_zh: str
    name_en: str
    address: str
    hours: str
    phone: str
    item_codes: tuple[str, ...] = field(default=())
    illustrative: bool = False

    def __post_init__(self) -> None:
        if not WINDOW_ID.match(self.id):
            raise InvalidContent("id", f"window id {self.id!r} does not match {WINDOW_ID.pattern}")
        if not LOCALITY_CODE.match(self.locality):
            raise InvalidContent("locality", f"{self.locality!r} is not a GB/T 2260 code")
        if self.id[2:8] != self.locality:
            raise InvalidContent("id", f"window id {self.id} does not carry its locality {self.locality}")
        for name, limit in (("name_zh", 200), ("name_en", 300), ("address", 300), ("hours", 300), ("phone", 64)):
            object.__setattr__(self, name, clean_text(name, getattr(self, name), limit, multiline=name == "hours"))
        bad = [c for c in self.item_codes if not ITEM_CODE.match(c)]
        if bad:
            raise InvalidContent("item_codes", f"{bad[0]!r} is not an item code")
        object.__setattr__(self, "item_codes", tuple(sorted(set(self.item_codes))))

    def content(self) -> dict[str, Any]:
        """The window as plain data."""
        return {
            "id": self.id, "locality": self.locality, "name_zh": self.name_zh, "name_en": self.name_en,
            "address": self.address, "hours": self.hours, "phone": self.phone,
            "item_codes": list(self.item_codes), "illustrative": self.illustrative,
        }


def headline_days(standards: list[Standard] | tuple[Standard, ...], fallback: int) -> int:
    """The item's headline committed time limit: the longest of its localities', else ``fallback``."""
    return max((s.committed_days for s in standards), default=fallback)
