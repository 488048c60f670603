"""Request and response models of electronic licences (电子证照); see docs/licences.md for their sources."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.authorization.domain.licences import Licence
from shared.api_types import Timestamp

LOCALITY = r"^\d{6}$"
NUMBER = r"^[0-9A-Za-z\-./]{1,64}$"


class LicenceRequest(BaseModel):
    """A licence the caller's locality issues (its department officer), signed with the locality's key."""

    model_config = ConfigDict(extra="forbid")

    type_code: str = Field(pattern=r"^[0-9A-Za-z\-.]{1,32}$", description="证照类型代码, one of the item's types.")
    type_name: str = Field(min_length=1, max_length=200, examples=["食品经营许可证"], description="证照类型名称")
    number: str = Field(pattern=NUMBER, description="证照编号, unique per issuing locality.")
    holder_kind: Literal["person", "enterprise"]
    holder_name: str = Field(min_length=1, max_length=200, description="持证主体; kept only masked.")
    holder_id: str = Field(min_length=6, max_length=32, description="持证主体代码 (identity number or USCC); "
                                                                      "kept only masked.")
    issuing_authority: str = Field(min_length=1, max_length=200, description="颁发机构")
    issuing_authority_code: str = Field(default="", max_length=32, description="颁发机构代码 (USCC), if known.")
    issued_on: date | None = Field(default=None, description="颁证日期; today when omitted.")
    valid_from: date = Field(description="有效期起始")
    valid_until: date | None = Field(default=None, description="有效期截止; null: long-term (长期).")
    file_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the licence's file (e.g. OFD).")
    case_id: str | None = Field(default=None, min_length=1, max_length=64,
                                description="The case whose result this licence is (revoked with it).")
    item_code: str | None = Field(default=None, min_length=1, max_length=32)
    holder_localities: list[str] = Field(default_factory=list, max_length=16, description=(
        "Localities that hear of the licence and of its revocation, beside the issuer."))


class LicenceView(BaseModel):
    """A licence as kept: holder masked, the issuer's signature and the digest it signs."""

    licence_id: str
    identifier: str = Field(description="证照标识 (Tongban's composed form, see docs/licences.md).")
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
    file_sha256: str
    case_id: str | None
    item_code: str | None
    holder_localities: list[str]
    status: Literal["valid", "revoked"]
    revoked_at: Timestamp | None
    revoked_reason: str
    signature: str = Field(description="Compact JWS by the issuing locality's key.")
    kid: str
    canonical_sha256: str = Field(description="SHA-256 of the RFC 8785 canonical form the signature names.")

    @classmethod
    def of(cls, licence: Licence, digest: str) -> LicenceView:
        """The view of a licence."""
        return cls(licence_id=licence.id, identifier=licence.identifier, type_code=licence.type_code,
                   type_name=licence.type_name, number=licence.number, holder_kind=licence.holder_kind,
                   holder_name_masked=licence.holder_name_masked, holder_id_masked=licence.holder_id_masked,
                   issuing_authority=licence.issuing_authority, issuing_authority_code=licence.issuing_authority_code,
                   issuing_locality=licence.issuing_locality, issued_on=licence.issued_on,
                   valid_from=licence.valid_from, valid_until=licence.valid_until, file_sha256=licence.file_sha256,
                   case_id=licence.case_id, item_code=licence.item_code,
                   holder_localities=list(licence.holder_localities), status=licence.status.value,
                   revoked_at=licence.revoked_at, revoked_reason=licence.revoked_reason,
                   signature=licence.signature, kid=licence.kid, canonical_sha256=digest)


class LicenceReference(BaseModel):
    """A licence to verify: its issuing locality and number, and what the holder's copy carries, if given."""

    model_config = ConfigDict(extra="forbid")

    issuing_locality: str = Field(pattern=LOCALITY)
    number: str = Field(pattern=NUMBER)
    signature: str | None = Field(default=None, min_length=1, max_length=4000,
                                  description="The signature on the holder's copy; it must verify too.")
    file_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$",
                                    description="The hash of the file presented; it must be the licence's.")


class LicenceVerificationView(BaseModel):
    """Whether the licence counts now, and if not, why (unknown, forged, revoked, expired, not yet valid)."""

    valid: bool
    refusal: Literal["unknown", "forged", "revoked", "expired", "not_yet_valid"] | None
    reason: str | None
    verified_at: Timestamp
    licence: LicenceView | None


class RevocationRequest(BaseModel):
    """Why the issuing locality revokes a licence."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
