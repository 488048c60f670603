"""Applicant identifiers: GB 11643 resident identity numbers, GB 32100 unified social credit codes.

Routing keeps an applicant only as a keyed hash and a masked form; the number itself is never stored,
logged or published. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

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


def applicant_ref(identifier: str, key: bytes, key_id: str = "") -> ApplicantRef:
    """Validate an identifier and reduce it to a keyed hash and a masked display form."""
    value = identifier.strip().upper()
    if is_resident_id(value):
        kind = "person"
    elif is_uscc(value):
        kind = "enterprise"
    else:
        raise InvalidIdentifier(
            "not a resident identity number (GB 11643) nor a unified social credit code (GB 32100)"
        )
    return ApplicantRef(kind, applicant_digest(value, key), value[:6] + "*" * 8 + value[-4:], key_id)
