"""Rules of postal delivery: UPU S10 tracking numbers, waybills. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
EMS_SERVICE_INDICATOR = "EA"


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an eight-digit serial number."""
    if len(serial) != 8 or not serial.isdigit():
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


Flow = Literal["materials", "result"]


@dataclass(frozen=True)
class Waybill:
    """A postal consignment of a case's materials (window to owner) or result (owner to applicant)."""

    number: str
    case_id: str
    flow: Flow
    sender_locality: str
    receiver_locality: str
    status: str = "created"
