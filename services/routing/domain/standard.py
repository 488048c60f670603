"""A case's materials against the owner's business standard, and the window's check of originals. Pure.

The catalogue's standard of the item in the owning locality lists each required material with its form
(原件 original, 复印件 copy, 原件及复印件 original and copy), its count, and whether an electronic file is
accepted instead; the window declares what it received in the same vocabulary
(shared/contracts/catalogue.py; ``paper``, the older word, counts as a copy). At acceptance every
required material must be there in a form that serves (an original or both serve for a copy) and in its
count; what is not is listed with the reason.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

SERVES: dict[str, frozenset[str]] = {
    "original": frozenset({"original", "original_and_copy"}),
    "copy": frozenset({"copy", "original", "original_and_copy", "paper"}),
    "original_and_copy": frozenset({"original_and_copy"}),
}
"""Required form -> the declared forms that serve for it (``electronic`` serves where accepted)."""
FORM_ZH = {"original": "原件", "copy": "复印件", "original_and_copy": "原件及复印件", "electronic": "电子件",
           "paper": "纸质件"}


@dataclass(frozen=True)
class Shortfall:
    """A required material missing or in a form or count that does not serve."""

    owner: str
    name: str
    form: str
    count: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """As a refusal lists it."""
        return {"owner": self.owner, "name": self.name, "form": self.form, "count": self.count,
                "reason": self.reason}


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip()


def shortfalls(owner: str, required: list[dict[str, Any]], declared: list[dict[str, Any]]) -> list[Shortfall]:
    """What ``owner``'s standard requires that the declared materials do not give."""
    found = {_key(str(m["name"])): m for m in declared}
    missing = []
    for need in required:
        name, form, count = _key(str(need["name"])), str(need.get("form", "original")), int(need.get("count", 1))
        given = found.get(name)
        wanted = f"{FORM_ZH.get(form, form)} {count} 份"
        if given is None:
            missing.append(Shortfall(owner, name, form, count, f"未提交 / not handed in ({wanted})"))
            continue
        got = str(given.get("form", ""))
        serves = got in SERVES.get(form, frozenset()) or (got == "electronic" and bool(need.get("electronic_accepted")))
        serves = serves or bool(given.get("licence"))  # a verified electronic licence (docs/licences.md)
        if not serves:
            missing.append(Shortfall(owner, name, form, count,
                                     f"形式不符 / wrong form: {FORM_ZH.get(got, got)} given, {wanted} required"))
        elif int(given.get("count", 1)) < count and got != "electronic":
            missing.append(Shortfall(owner, name, form, count,
                                     f"份数不足 / too few: {given.get('count', 1)} given, {count} required"))
    return missing


def check_of_originals(material_names: list[str], checks: list[dict[str, Any]]) -> list[str]:
    """The names checked that are not among the case's materials (an empty list: all are)."""
    names = {_key(n) for n in material_names}
    return [str(c["material"]) for c in checks if _key(str(c["material"])) not in names]
