"""Applicant identifiers: GB 11643 resident identity numbers, GB 32100 unified social credit codes.

Routing keeps an applicant only as a keyed hash and a masked form; the number itself is never stored,
logged or published. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from services.routing.domain.divisions import USCC_SINCE, DivisionList, divisions

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_check(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of a resident identity number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_resident_id(value: str) -> bool:
    """Whether ``value`` is an 18-character resident identity number with a valid check character."""
    return (
        len(value) == 18
        and value[:17].isdigit()
        and value[17] in "0123456789X"
        and resident_id_check(value[:17]) == value[17]
    )


def uscc_check(first17: str) -> str:
    """The GB 32100 check character of a unified social credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_uscc(value: str) -> bool:
    """Whether ``value`` is a unified social credit code with a valid check character."""
    return (
        len(value) == 18
        and all(c in USCC_CHARSET for c in value)
        and uscc_check(value[:17]) == value[17]
    )


class InvalidIdentifier(ValueError):
    """An applicant identifier that fails its standard's check."""


EARLIEST_BIRTH = date(1900, 1, 1)


def resident_id_problem(value: str, today: date, codes: DivisionList | None = None) -> str | None:
    """Why a resident identity number with a valid check character is still not one, or None.

    The birth date must be a real date between 1900-01-01 and today; the area code must be a GB/T 2260
    code that existed after the holder's birth (see :meth:`DivisionList.valid_for_birth`).
    """
    codes = codes or divisions()
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"the birth date {value[6:14]} of the identity number is not a date"
    if born < EARLIEST_BIRTH:
        return f"the birth date {born.isoformat()} of the identity number is before 1900"
    if born > today:
        return f"the birth date {born.isoformat()} of the identity number is in the future"
    area = value[:6]
    if not codes.known(area):
        return f"the area code {area} of the identity number is not a GB/T 2260 division code"
    if not codes.valid_for_birth(area, born.year):
        return f"the area code {area} was retired before the holder's birth in {born.year}"
    return None


def uscc_problem(value: str, codes: DivisionList | None = None) -> str | None:
    """Why a credit code with a valid check character is still not one (its division code), or None."""
    codes = codes or divisions()
    area = value[2:8]
    if not codes.known(area):
        return f"the division code {area} of the credit code is not a GB/T 2260 division code"
    if not codes.existed_since(area, USCC_SINCE):
        return f"the division code {area} of the credit code was retired before credit codes began ({USCC_SINCE})"
    return None


@dataclass(frozen=True)
class ApplicantRef:
    """An applicant as routing keeps them: a keyed hash and a masked form, never the number."""

    kind: str  # "person" or "enterprise"
    digest: str
    masked: str
    key_id: str = ""
    """The version of the applicant-hash key that made ``digest`` ("" for hashes from before versions)."""


def normalized(identifier: str) -> str:
    """An identifier as it is hashed: trimmed, upper case."""
    return identifier.strip().upper()


def applicant_digest(identifier: str, key: bytes) -> str:
    """The keyed hash (HMAC-SHA-256) of an identifier under one version of the key."""
    return hmac.new(key, normalized(identifier).encode("ascii", "replace"), hashlib.sha256).hexdigest()


def identifier_kind(identifier: str, today: date) -> str:
    """``person`` or ``enterprise`` for a valid identifier; :class:`InvalidIdentifier` with the reason."""
    value = normalized(identifier)
    if is_resident_id(value):
        problem = resident_id_problem(value, today)
        kind = "person"
    elif is_uscc(value):
        problem = uscc_problem(value)
        kind = "enterprise"
    else:
        raise InvalidIdentifier(
            "not a resident identity number (GB 11643) nor a unified social credit code (GB 32100)"
        )
    if problem is not None:
        raise InvalidIdentifier(problem)
    return kind


def applicant_ref(identifier: str, key: bytes, key_id: str = "", today: date | None = None) -> ApplicantRef:
    """Validate an identifier (check character, birth date or division code as of ``today``, default the
    system's date) and reduce it to a keyed hash and a masked display form."""
    from shared import clock

    value = normalized(identifier)
    kind = identifier_kind(value, today or clock.current().today())
    return ApplicantRef(kind, applicant_digest(value, key), value[:6] + "*" * 8 + value[-4:], key_id)
