"""Postal rules. Pure: no I/O.

UPU S10 tracking numbers and carriers' own numbers; structured addresses, postcodes and masked phones
and names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

# --------------------------------------------------------------------------- S10 tracking numbers

_S10 = re.compile(r"^([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})$")  # ASCII digits only (\d takes any script's)
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
EMS_SERVICE_INDICATOR = "EA"


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an eight-digit serial number."""
    if len(serial) != 8 or not (serial.isascii() and serial.isdigit()):
        raise ValueError("an S10 serial has eight digits")
    check = 11 - sum(int(d) * w for d, w in zip(serial, _WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def s10_number(serial: int, service: str = EMS_SERVICE_INDICATOR, country: str = "CN") -> str:
    """The S10 tracking number of a serial, e.g. ``EA123456785CN``."""
    if not 0 <= serial <= 99_999_999:
        raise ValueError("S10 serials run from 00000000 to 99999999")
    digits = f"{serial:08d}"
    return f"{service}{digits}{s10_check_digit(digits)}{country}"


def is_s10(number: str) -> bool:
    """Whether ``number`` is a well-formed S10 identifier with the right check digit."""
    match = _S10.match(number)
    return bool(match) and s10_check_digit(match.group(2)) == int(match.group(3))  # type: ignore[union-attr]


def s10_problem(number: str) -> str | None:
    """Why ``number`` is not a valid S10 identifier, or None when it is."""
    match = _S10.match(number)
    if match is None:
        return "not an S10 tracking number (two letters, eight digits, check digit, two letters)"
    expected = s10_check_digit(match.group(2))
    if expected != int(match.group(3)):
        return f"wrong S10 check digit {match.group(3)} (expected {expected})"
    return None


@dataclass(frozen=True)
class Carrier:
    """A carrier that reports tracking events; it may have a numbering of its own."""

    code: str
    name: str
    own_number_pattern: str | None = None
    """A regular expression of the carrier's own (non-S10) waybill numbers, accepted for this carrier."""

    def accepts_own_number(self, number: str) -> bool:
        """Whether ``number`` is in this carrier's own numbering."""
        return bool(self.own_number_pattern) and re.fullmatch(self.own_number_pattern or "", number) is not None


def tracking_number_problem(number: str, carrier: Carrier | None = None) -> str | None:
    """Why ``number`` names no waybill: None for a valid S10 number or the carrier's own format."""
    if carrier is not None and carrier.accepts_own_number(number):
        return None
    return s10_problem(number)


# --------------------------------------------------------------------------- addresses and phones

_POSTCODE = re.compile(r"^[0-8]\d{5}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")

POSTCODE_PREFIXES: dict[str, tuple[str, ...]] = {
    "上海市": ("20",),
    "Shanghai": ("20",),
    "江苏省": ("21", "22"),
    "Jiangsu": ("21", "22"),
    "浙江省": ("31", "32"),
    "Zhejiang": ("31", "32"),
    "安徽省": ("23", "24"),
    "Anhui": ("23", "24"),
}
"""Postcode prefixes of the provinces of the cooperation; others are checked for shape only."""


class InvalidAddress(ValueError):
    """An address that cannot be posted to; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Address:
    """A structured postal address in mainland China."""

    name: str
    """Addressee: a department, a window, or a person."""
    phone: str
    province: str
    city: str
    district: str
    street: str
    postcode: str

    def to_dict(self) -> dict[str, str]:
        """The address as stored."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Address:
        """An address from its stored form."""
        return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__})


def validate_address(address: Address) -> Address:
    """The address with its parts trimmed; :class:`InvalidAddress` when a part is wrong."""
    trimmed = Address(**{k: " ".join(str(v).split()) for k, v in address.__dict__.items()})
    for part in ("name", "province", "city", "district", "street"):
        if not getattr(trimmed, part):
            raise InvalidAddress(part, "must not be empty")
    if not _POSTCODE.match(trimmed.postcode):
        raise InvalidAddress("postcode", "a postcode has six digits and does not start with 9")
    prefixes = POSTCODE_PREFIXES.get(trimmed.province)
    if prefixes and not trimmed.postcode.startswith(prefixes):
        raise InvalidAddress(
            "postcode", f"{trimmed.postcode} is not a postcode of {trimmed.province} ({'/'.join(prefixes)}xxxx)"
        )
    phone = trimmed.phone.replace(" ", "")
    if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        raise InvalidAddress("phone", "not a mainland mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number")
    return replace(trimmed, phone=phone)


def mask_phone(phone: str) -> str:
    """A phone number with all digits but the first three and the last four hidden."""
    digits = [i for i, c in enumerate(phone) if c.isdigit()]
    if len(digits) <= 7:
        return "*" * len(phone)
    hidden = set(digits[3:-4])
    return "".join("*" if i in hidden else c for i, c in enumerate(phone))


def mask_name(name: str) -> str:
    """A person's name with all but its first character hidden."""
    return name[:1] + "*" * max(len(name) - 1, 1)
