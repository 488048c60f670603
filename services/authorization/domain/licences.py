"""Electronic licences (电子证照): issued, signed, verified and revoked. Pure: no I/O.

A licence is a result of a case that another locality can rely on without a scan ("don't submit what
you already hold"). Its fields follow the structure of the national e-licence standards where they are
public (GB/T 36901 framework, GB/T 36903 metadata, GB/T 36904 identifier; see docs/licences.md for what
was and was not confirmed): a licence type (code and name), the issuer's number, an identifier, the
holder (kept only masked), the issuing authority and locality, the validity, the file's hash.

What the issuing locality signs is the RFC 8785 canonical JSON of those fields (:func:`canonical_form`),
as agreements are signed: the signature's payload names the licence and the SHA-256 of that form, so a
field changed after signing, or a signature made for another licence, no longer verifies.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

import rfc8785

SIGNATURE_TYPE = "tongban-licence-signature"
"""The JWS ``typ`` of a licence signature."""
_NUMBER = re.compile(r"^[0-9A-Za-z\-./]{1,64}$")
_TYPE_CODE = re.compile(r"^[0-9A-Za-z\-.]{1,32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class LicenceError(ValueError):
    """A licence that cannot be issued or revoked as asked."""


class LicenceStatus(StrEnum):
    """A licence's state: valid until revoked (expiry is read from its dates, not stored)."""

    VALID = "valid"
    REVOKED = "revoked"


class Refusal(StrEnum):
    """Why a licence presented as a material does not count."""

    UNKNOWN = "unknown"
    FORGED = "forged"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


def mask_holder_name(name: str) -> str:
    """A person's or an enterprise's name with all but its first character hidden (王**)."""
    value = unicodedata.normalize("NFC", name).strip()
    if not value:
        raise LicenceError("the holder's name is empty")
    return value[0] + "*" * max(len(value) - 1, 1)


def mask_holder_id(number: str) -> str:
    """An identity number or credit code with at most its first and last four characters shown."""
    value = number.strip().upper()
    if not 6 <= len(value) <= 32 or not value.isalnum():
        raise LicenceError("the holder's identity number or credit code is 6 to 32 letters and digits")
    keep = min(4, max(len(value) // 4, 1))
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def identifier_of(issuing_locality: str, type_code: str, number: str) -> str:
    """The licence's identifier (证照标识): Tongban's composed form, unique across the localities."""
    return f"TB.{issuing_locality}.{type_code}.{number}"


@dataclass(frozen=True)
class Licence:
    """One electronic licence as its issuing locality keeps it."""

    id: str
    identifier: str
    type_code: str
    type_name: str
    number: str
    holder_kind: str
    holder_name_masked: str
    holder_id_masked: str
    issuing_authority: str
    issuing_authority_code: str
    issuing_locality: str
    issued_on: date
    valid_from: date
    valid_until: date | None
    """None: long-term (长期)."""
    file_sha256: str
    case_id: str | None
    item_code: str | None
    holder_localities: tuple[str, ...]
    status: LicenceStatus = LicenceStatus.VALID
    signature: str = ""
    kid: str = ""
    revoked_at: datetime | None = None
    revoked_reason: str = ""

    @classmethod
    def new(cls, *, type_code: str, type_name: str, number: str, holder_kind: str, holder_name: str,
            holder_id: str, issuing_authority: str, issuing_authority_code: str, issuing_locality: str,
            issued_on: date, valid_from: date, valid_until: date | None, file_sha256: str,
            case_id: str | None = None, item_code: str | None = None,
            holder_localities: tuple[str, ...] = ()) -> Licence:
        """A licence to be signed: the holder masked at once, the dates and the hash checked."""
        if not _TYPE_CODE.match(type_code):
            raise LicenceError("a licence type code is 1 to 32 letters, digits, '-' or '.'")
        if not type_name.strip():
            raise LicenceError("the licence type needs a name")
        if not _NUMBER.match(number):
            raise LicenceError("a licence number is 1 to 64 letters, digits, '-', '.' or '/'")
        if holder_kind not in ("person", "enterprise"):
            raise LicenceError("the holder is a person or an enterprise")
        if not issuing_authority.strip():
            raise LicenceError("the issuing authority needs a name")
        digest = file_sha256.strip().lower()
        if not _HEX64.match(digest):
            raise LicenceError("the file's SHA-256 is 64 hexadecimal digits")
        if valid_until is not None and valid_until < valid_from:
            raise LicenceError(f"the licence would end ({valid_until}) before it starts ({valid_from})")
        localities = tuple(dict.fromkeys((issuing_locality, *holder_localities)))
        return cls(id=str(uuid.uuid4()), identifier=identifier_of(issuing_locality, type_code, number),
                   type_code=type_code, type_name=type_name.strip(), number=number, holder_kind=holder_kind,
                   holder_name_masked=mask_holder_name(holder_name), holder_id_masked=mask_holder_id(holder_id),
                   issuing_authority=issuing_authority.strip(), issuing_authority_code=issuing_authority_code.strip(),
                   issuing_locality=issuing_locality, issued_on=issued_on, valid_from=valid_from,
                   valid_until=valid_until, file_sha256=digest, case_id=case_id, item_code=item_code,
                   holder_localities=localities)

    def signed(self, signature: str, kid: str) -> Licence:
        """The licence with its issuer's signature."""
        return replace(self, signature=signature, kid=kid)

    def revoke(self, reason: str, at: datetime) -> Licence:
        """The licence revoked with ``reason``; a licence is revoked once."""
        if self.status is LicenceStatus.REVOKED:
            raise LicenceError(f"licence {self.identifier} was revoked already ({self.revoked_reason})")
        if not reason.strip():
            raise LicenceError("a revocation needs a reason")
        return replace(self, status=LicenceStatus.REVOKED, revoked_at=at, revoked_reason=reason.strip())

    def signed_claims(self) -> dict[str, Any]:
        """What the issuer's signature payload names: the licence and the digest of its canonical form."""
        return {"licence": self.id, "identifier": self.identifier, "sha256": canonical_sha256(self)}

    def signature_fault(self, payload: dict[str, Any]) -> str | None:
        """Why a verified signature's payload is not this licence's (None: it is)."""
        if payload.get("licence") != self.id or payload.get("identifier") != self.identifier:
            return "the signature was made for another licence"
        if payload.get("sha256") != canonical_sha256(self):
            return "the licence was changed after it was signed"
        if payload.get("party") != self.issuing_locality:
            return f"the signature is not by the issuing locality {self.issuing_locality}"
        return None

    def validity_fault(self, today: date) -> tuple[Refusal, str] | None:
        """Why the licence does not count today (revoked, expired, not yet valid), or None."""
        if self.status is LicenceStatus.REVOKED:
            return Refusal.REVOKED, f"licence {self.identifier} was revoked: {self.revoked_reason}"
        if today < self.valid_from:
            return Refusal.NOT_YET_VALID, f"licence {self.identifier} is valid from {self.valid_from}"
        if self.valid_until is not None and today > self.valid_until:
            return Refusal.EXPIRED, f"licence {self.identifier} expired on {self.valid_until}"
        return None


def canonical_body(licence: Licence) -> dict[str, Any]:
    """The fields the issuer signs (not the status, signature or revocation)."""
    return {
        "id": licence.id, "identifier": licence.identifier, "type_code": licence.type_code,
        "type_name": licence.type_name, "number": licence.number, "holder_kind": licence.holder_kind,
        "holder_name_masked": licence.holder_name_masked, "holder_id_masked": licence.holder_id_masked,
        "issuing_authority": licence.issuing_authority, "issuing_authority_code": licence.issuing_authority_code,
        "issuing_locality": licence.issuing_locality, "issued_on": licence.issued_on.isoformat(),
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "file_sha256": licence.file_sha256, "case_id": licence.case_id, "item_code": licence.item_code,
    }


def canonical_form(licence: Licence) -> bytes:
    """The RFC 8785 canonical JSON of what the issuer signs."""
    return rfc8785.dumps(cast(Any, canonical_body(licence)))


def canonical_sha256(licence: Licence) -> str:
    """SHA-256 (hex) of the canonical form."""
    return hashlib.sha256(canonical_form(licence)).hexdigest()
