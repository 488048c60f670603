"""The applicant and the agent acting for them (代办人). Pure: no I/O.

A person: name, identity document kind and number, phone, address; an enterprise: name, unified social
credit code, legal representative, phone, address. An agent: name, identity document, phone, and the
authorisation letter (授权委托书), which must be one of the case's materials. The personal fields are
sealed at rest by the service layer; what is answered and published is :meth:`masked`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from services.routing.domain.identifiers import InvalidIdentifier, identifier_kind, normalized
from services.routing.domain.materials import InvalidMaterial
from services.routing.domain.materials import clean_name as _clean

ID_KINDS = ("resident_id", "hk_macao_permit", "taiwan_permit", "passport", "foreign_permanent_residence")
"""居民身份证; 港澳居民来往内地通行证; 台湾居民来往大陆通行证; 护照; 外国人永久居留身份证."""
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-\d{7,8})$")
_DOCUMENT = re.compile(r"^[0-9A-Z]{5,20}$")


class InvalidParty(ValueError):
    """An applicant or agent whose fields break the rules."""


def clean_name(value: str, what: str) -> str:
    """A name or address in its one form (the materials' rule: NFC, visible characters only)."""
    try:
        return _clean(value, what)
    except InvalidMaterial as exc:
        raise InvalidParty(str(exc)) from exc


def mask_name(name: str) -> str:
    """A person's name with all but its first character hidden (王**)."""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_number(number: str) -> str:
    """A document number with its first and last four characters shown at most."""
    keep = min(4, max(len(number) // 4, 1))
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def mask_phone(phone: str) -> str:
    """A phone with its first three and last four digits shown."""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_address(address: str) -> str:
    """An address with its first six characters (province, city) shown."""
    return address[:6] + "****"


def _phone(value: str) -> str:
    value = value.strip()
    if not _PHONE.match(value):
        raise InvalidParty(f"phone {mask_phone(value) if len(value) > 7 else value!r} is neither a mobile "
                           "(1[3-9] + 9 digits) nor a landline (0xx(x)-xxxxxxx(x))")
    return value


def _document(kind: str, number: str, today: date) -> str:
    if kind not in ID_KINDS:
        raise InvalidParty(f"unknown identity document kind {kind!r}; one of {', '.join(ID_KINDS)}")
    value = normalized(number)
    if kind == "resident_id":
        try:
            if identifier_kind(value, today) != "person":
                raise InvalidParty("a resident identity number is 18 characters (GB 11643)")
        except InvalidIdentifier as exc:
            raise InvalidParty(str(exc)) from exc
    elif not _DOCUMENT.match(value):
        raise InvalidParty(f"a {kind} number is 5 to 20 letters and digits")
    return value


@dataclass(frozen=True)
class Applicant:
    """The person or enterprise the case is for."""

    kind: str  # person | enterprise
    name: str
    id_kind: str
    id_number: str
    phone: str
    address: str = ""
    legal_representative: str = ""

    @classmethod
    def of(cls, data: dict[str, Any], applicant_id: str, today: date) -> Applicant:
        """An applicant from its submitted form; its number must be the case's ``applicant_id``."""
        kind = str(data["kind"])
        if kind == "enterprise":
            id_kind, number = "uscc", normalized(str(data["uscc"]))
            legal = clean_name(str(data.get("legal_representative") or ""), "the legal representative")
        elif kind == "person":
            id_kind, number = str(data["id_kind"]), _document(str(data["id_kind"]), str(data["id_number"]), today)
            legal = ""
        else:
            raise InvalidParty(f"an applicant is a person or an enterprise, not {kind!r}")
        if number != normalized(applicant_id):
            raise InvalidParty("the applicant's document number is not the case's applicant_id")
        address = str(data.get("address") or "").strip()
        return cls(kind, clean_name(str(data["name"]), "the applicant's name"), id_kind, number,
                   _phone(str(data["phone"])), clean_name(address, "the address") if address else "", legal)

    def masked(self) -> dict[str, str]:
        """What is answered and published: names of people, numbers, phones and addresses masked."""
        return {"kind": self.kind, "name": self.name if self.kind == "enterprise" else mask_name(self.name),
                "id_kind": self.id_kind, "id_number": mask_number(self.id_number), "phone": mask_phone(self.phone),
                "address": mask_address(self.address) if self.address else "",
                "legal_representative": mask_name(self.legal_representative) if self.legal_representative else ""}

    def as_dict(self) -> dict[str, str]:
        """Every field, as sealed."""
        return asdict(self)


@dataclass(frozen=True)
class Agent:
    """Someone acting for the applicant (代办人), with the authorisation letter among the materials."""

    name: str
    id_kind: str
    id_number: str
    phone: str
    authorisation_letter: str

    @classmethod
    def of(cls, data: dict[str, Any], material_names: list[str], today: date) -> Agent:
        """An agent from its submitted form; the letter must name one of the case's materials."""
        letter = clean_name(str(data["authorisation_letter"]), "the authorisation letter")
        if letter not in material_names:
            raise InvalidParty(f"the authorisation letter {letter!r} is not among the case's materials")
        return cls(clean_name(str(data["name"]), "the agent's name"), str(data["id_kind"]),
                   _document(str(data["id_kind"]), str(data["id_number"]), today), _phone(str(data["phone"])),
                   letter)

    def masked(self) -> dict[str, str]:
        """What is answered: the person masked, the letter named."""
        return {"name": mask_name(self.name), "id_kind": self.id_kind, "id_number": mask_number(self.id_number),
                "phone": mask_phone(self.phone), "authorisation_letter": self.authorisation_letter}

    def as_dict(self) -> dict[str, str]:
        """Every field, as sealed."""
        return asdict(self)
