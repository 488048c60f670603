"""The request and response models of the authorization service's REST API.

Every route answers one of these, so that each 2xx of the OpenAPI document has a schema a
locality's engineers can generate a client from. Times are :data:`shared.api_types.Timestamp`
(RFC 3339 with an offset), key and signature times too (kept as Unix seconds, as in the JWS they
sign); only the JWKS keeps its members in Unix seconds (JOSE's NumericDate, what verifiers compare).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.authorization.domain import (
    Agreement,
    AgreementStatus,
    Client,
    Consent,
    KeyStatus,
    Role,
    SigningKey,
    canonical_form,
    canonical_sha256,
)
from services.authorization.rights import RightBody
from shared.api_types import CursorPage, Timestamp, TimestampIn
from shared.contracts.catalogue import MaterialForm
from shared.crypto import Algorithm, HashName

LOCALITY = r"^\d{6}$"
Mode = Literal["fully_online", "accepted_here_handled_there", "joint_handling"]

# --------------------------------------------------------------------------- tokens and JWKS


class TokenResponse(BaseModel):
    """An access token (RFC 6749 section 5.1)."""

    access_token: str = Field(description="A signed JWT (EdDSA, or SM2SM3 under the national suite).")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the token is valid for.")
    scope: str = Field(description="The roles granted, separated by spaces.", examples=["window_clerk"])


class Jwk(BaseModel):
    """A published public key (RFC 7517) with Tongban's members."""

    model_config = ConfigDict(extra="allow")

    kty: Literal["OKP", "EC"]
    crv: Literal["Ed25519", "SM2"]
    x: str
    y: str | None = Field(default=None, description="SM2 keys only.")
    alg: Literal["EdDSA", "SM2SM3"]
    kid: str
    use: Literal["sig"]
    tongban_owner: str = Field(description="`tongban` (the token issuer) or a locality code.")
    tongban_use: Literal["token", "locality"]
    tongban_status: KeyStatus
    tongban_created_at: int = Field(description="Unix seconds.")
    tongban_retired_at: int | None = Field(description="Unix seconds; null while active.")


class Jwks(BaseModel):
    """The published keys (active and retired, never revoked) and the revoked clients."""

    keys: list[Jwk]
    tongban_revoked_clients: list[str]


# --------------------------------------------------------------------------- clients


class ClientRequest(BaseModel):
    """A locality system asking for credentials."""

    model_config = ConfigDict(extra="forbid")

    locality: str = Field(pattern=LOCALITY)
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)


class ClientView(BaseModel):
    """A client, without its secret."""

    client_id: str
    locality: str
    name: str
    roles: list[Role]
    revoked: bool

    @classmethod
    def of(cls, client: Client) -> ClientView:
        """The view of a domain client."""
        return cls(client_id=client.client_id, locality=client.locality, name=client.name,
                   roles=list(client.roles), revoked=client.revoked)


class IssuedClient(ClientView):
    """A new client with its secret: shown once, stored only as a hash."""

    client_secret: str


# --------------------------------------------------------------------------- keys


class KeyView(BaseModel):
    """A public signing key."""

    kid: str
    owner: str
    x: str
    status: KeyStatus
    created_at: Timestamp
    retired_at: Timestamp | None = Field(description="When it stopped signing; null while active.")
    revoked_at: Timestamp | None
    algorithm: Algorithm = Algorithm.ED25519
    y: str | None = Field(default=None, description="The second coordinate of an SM2 key (base64url).")

    @classmethod
    def of(cls, key: SigningKey) -> KeyView:
        """The view of a domain key."""
        return cls(**key.__dict__)


# --------------------------------------------------------------------------- audit


class ChainVerification(BaseModel):
    """The audit chain walked from its start: intact, or its first broken link."""

    intact: bool
    checked: int = Field(description="Entries checked.")
    head_seq: int | None = Field(default=None, description="The last entry (intact chain).")
    head_hash: str | None = Field(default=None, description="Its hash (intact chain).")
    first_broken_seq: int | None = Field(description="The first entry whose hash or link does not verify.")
    reason: str | None = Field(default=None, description="Why it does not verify.")
    unchained: int = Field(description="Entries written but not chained yet.")


class AuditEntryView(BaseModel):
    """One entry of the hash-chained audit log."""

    seq: int
    at: Timestamp
    locality: str
    actor: str
    action: str = Field(examples=["token.issued"])
    subject: str
    outcome: str
    detail: dict[str, Any] = Field(description="What the action carried; free-form per action.")
    prev_hash: str
    hash: str
    hash_alg: HashName


class AuditPage(CursorPage):
    """A page of the caller's locality's audit entries, by sequence number."""

    entries: list[AuditEntryView]


class Checkpoint(BaseModel):
    """The chain's head signed by a locality's key."""

    locality: str
    seq: int
    head_hash: str
    jws: str


# --------------------------------------------------------------------------- agreements and delegations


class PermissionBody(BaseModel):
    """``acceptor`` may accept for ``owner`` in ``modes``."""

    model_config = ConfigDict(extra="forbid")

    acceptor: str = Field(pattern=LOCALITY)
    owner: str = Field(pattern=LOCALITY)
    modes: list[Mode] = Field(min_length=1)
    rights: list[RightBody] | None = Field(default=None, max_length=100, description=(
        "The delegated rights the acceptor holds (services/authorization/rights.py); left out: all four."))


class AgreementDraft(BaseModel):
    """A new agreement, drafted by the caller's locality (which must be a party)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=100_000)
    parties: list[str] = Field(min_length=2, max_length=64)
    items: list[str] = Field(default_factory=list, max_length=10_000)
    areas: list[str] = Field(default_factory=list, max_length=100)
    permissions: list[PermissionBody] = Field(min_length=1, max_length=10_000)
    valid_from: TimestampIn
    valid_until: TimestampIn


class SignatureView(BaseModel):
    """A party's signature over the agreement's canonical form."""

    party: str
    kid: str
    jws: str
    signed_at: Timestamp = Field(description="The JWS's `iat`.")


class ActView(BaseModel):
    """A signed act on an agreement."""

    party: str
    kind: Literal["suspend", "resume", "terminate"]
    reason: str
    kid: str
    jws: str
    at: Timestamp = Field(description="The JWS's `iat`.")


class AgreementView(BaseModel):
    """An agreement with its canonical form, signatures, acts and whether they verify."""

    id: str
    title: str
    text: str
    parties: list[str]
    items: list[str]
    areas: list[str]
    permissions: list[PermissionBody]
    valid_from: Timestamp
    valid_until: Timestamp
    drafted_by: str
    status: AgreementStatus
    unsigned_parties: list[str]
    signatures: list[SignatureView]
    acts: list[ActView]
    canonical: str
    canonical_sha256: str
    fault: str | None = Field(description="Why a signature or act does not verify; null when all do.")

    @classmethod
    def of(cls, a: Agreement, fault: str | None) -> AgreementView:
        """The view of a domain agreement."""
        return cls.model_validate({
            "id": a.id, "title": a.title, "text": a.text, "parties": list(a.parties), "items": list(a.items),
            "areas": list(a.areas),
            "permissions": [p.as_dict() for p in a.permissions],
            "valid_from": a.valid_from, "valid_until": a.valid_until, "drafted_by": a.drafted_by,
            "status": a.status.value, "unsigned_parties": a.unsigned_parties,
            "signatures": [s.__dict__ for s in a.signatures], "acts": [x.__dict__ for x in a.acts],
            "canonical": canonical_form(a).decode("utf-8"), "canonical_sha256": canonical_sha256(a), "fault": fault,
        })


class SignatureRequest(BaseModel):
    """A party signs the canonical form it reviewed, named by its SHA-256."""

    model_config = ConfigDict(extra="forbid")

    canonical_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ActRequest(BaseModel):
    """Suspend, resume or terminate an agreement."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["suspend", "resume", "terminate"]
    reason: str = Field(min_length=1, max_length=1000)


class DelegationDecision(BaseModel):
    """Whether a locality may accept an item for another, and why."""

    allowed: bool
    reason: str
    agreement_id: str | None = Field(description="The agreement that allows it; null when refused.")


# --------------------------------------------------------------------------- attestations


class Material(BaseModel):
    """One material handed in at the window."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    sm3: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", exclude_if=lambda value: value is None,
                            description="SM3 digest of the file, when the window declared it (national suite).")
    form: MaterialForm | Literal["paper"] = Field(description="shared/contracts/catalogue.py's vocabulary.")
    count: int | None = Field(default=None, ge=1, le=99, exclude_if=lambda value: value is None)
    supplement: int | None = Field(default=None, ge=0, exclude_if=lambda value: value is None)
    licence: dict[str, Any] | None = Field(default=None, exclude_if=lambda value: value is None, description=(
        "The electronic licence the material was given as, as its issuer verified it (docs/licences.md)."))


class AttestationRequest(BaseModel):
    """What the window accepted: the case, the item, the owners, the materials' hashes, the clerk."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=64)
    item_code: str = Field(min_length=1, max_length=32)
    mode: Mode
    owners: list[str] = Field(min_length=1, max_length=16)
    materials: list[Material] = Field(max_length=200)
    clerk: str = Field(min_length=1, max_length=100)
    clerk_id: str | None = Field(default=None, min_length=1, max_length=64, exclude_if=lambda v: v is None,
                                 description="The person at the window, as the locality system asserts (signed).")
    clerk_name: str | None = Field(default=None, min_length=1, max_length=100, exclude_if=lambda v: v is None)
    accepted_at: TimestampIn


class IssuedAttestation(BaseModel):
    """A new acceptance attestation: a compact JWS by the issuer's locality key."""

    attestation_id: str
    jws: str
    issuer: str


class AttestationView(BaseModel):
    """An attestation as kept (issuer and owners only)."""

    attestation_id: str
    case_id: str
    issuer: str
    owners: list[str]
    jws: str
    issued_at: Timestamp


class VerificationRequest(BaseModel):
    """A compact JWS to verify."""

    model_config = ConfigDict(extra="forbid")

    jws: str = Field(min_length=10, max_length=200_000)


class VerificationView(BaseModel):
    """Whose key signed an attestation, whether that key may have, and what it says."""

    valid: bool
    issuer: str | None
    kid: str | None
    claims: dict[str, Any] | None = Field(description="The signed payload (the attestation request's members, "
                                                      "`iss`, `attestation_id`, `party`, `iat`, `jti`).")
    reason: str | None = Field(description="Why it does not verify; null when it does.")


# --------------------------------------------------------------------------- consents


class ConsentRequest(BaseModel):
    """An applicant's consent, as recorded at a window."""

    model_config = ConfigDict(extra="forbid")

    subject_ref: str = Field(min_length=8, max_length=128, description="Opaque reference to the applicant.")
    item_code: str = Field(min_length=1, max_length=32)
    data_kind: str = Field(min_length=1, max_length=64)
    requester: str = Field(pattern=LOCALITY)
    holder: str = Field(pattern=LOCALITY)
    purpose: str = Field(min_length=1, max_length=200)
    expires_at: TimestampIn


class ConsentView(BaseModel):
    """A recorded consent."""

    id: str
    subject_ref: str
    item_code: str
    data_kind: str
    requester: str
    holder: str
    purpose: str
    expires_at: Timestamp
    recorded_by: str
    revoked_at: Timestamp | None
    revoked: bool

    @classmethod
    def of(cls, consent: Consent) -> ConsentView:
        """The view of a domain consent."""
        return cls.model_validate({**consent.__dict__, "revoked": consent.revoked_at is not None})


class ConsentDecisionView(BaseModel):
    """Whether the requester may query the holder's records now, and why."""

    allowed: bool
    reason: str
    consent_id: str | None
