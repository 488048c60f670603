"""Credentials of locality systems, signing keys and the audit chain: pure rules, no I/O."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any, cast

import rfc8785

from shared.auth import Role as Role
from shared.crypto import Algorithm, HashName, PublicKey, hexdigest, public_key_from_jwk

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of a client secret, as ``scrypt$<salt>$<hash>``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches a hash made by :func:`hash_secret`."""
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(secret.encode("utf-8"), salt=bytes.fromhex(salt), **_SCRYPT)  # type: ignore[arg-type]
    return hmac.compare_digest(candidate.hex(), digest)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of no one's secret, made once per process, to check unknown client ids against."""
    return hash_secret(secrets.token_urlsafe(32))


def verify_secret_or_dummy(secret: str, stored: str | None) -> bool:
    """Like :func:`verify_secret`, in the same time whether the client exists (``stored`` None) or not."""
    if stored is None:
        verify_secret(secret, _dummy_hash())
        return False
    return verify_secret(secret, stored)


def new_client_id(locality: str) -> str:
    """A client id naming its locality, e.g. ``320505-6f1c2a9b``."""
    return f"{locality}-{secrets.token_hex(4)}"


def new_client_secret() -> str:
    """A fresh client secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Client:
    """A locality system holding client credentials."""

    client_id: str
    locality: str
    name: str
    roles: tuple[Role, ...]
    revoked: bool = False


# --------------------------------------------------------------------------- signing keys

ISSUER = "issuer"
"""Owner name of the keys that sign access tokens (the localities' keys sign their own acts)."""


class KeyStatus(StrEnum):
    """Where a signing key stands: signs now, verifies only what it signed, or verifies nothing."""

    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class SigningKey:
    """A public signing key of a locality (or of the token issuer)."""

    kid: str
    owner: str
    x: str
    status: KeyStatus
    created_at: int
    retired_at: int | None = None
    revoked_at: int | None = None
    algorithm: Algorithm = Algorithm.ED25519
    """What the key signs with; verification always uses this, never a message's header."""
    y: str | None = None
    """The second coordinate (base64url) of an SM2 key; ``x`` is the first (or Ed25519's key)."""

    def public_key(self) -> PublicKey:
        """The key as a verifier of its own algorithm."""
        return _public_key(self.algorithm, self.x, self.y)

    def jwk_members(self) -> dict[str, Any]:
        """``kty``, ``crv``, coordinates and ``alg`` of the key's JWK."""
        if self.algorithm is Algorithm.SM2:
            return {"kty": "EC", "crv": "SM2", "x": self.x, "y": self.y, "alg": self.algorithm.jose}
        return {"kty": "OKP", "crv": "Ed25519", "x": self.x, "alg": self.algorithm.jose}

    def verifies_signature_made_at(self, signed_at: int) -> bool:
        """Whether a signature this key made at ``signed_at`` (Unix time) still counts."""
        if self.status is KeyStatus.REVOKED:
            return False
        return self.retired_at is None or signed_at <= self.retired_at

    def retire(self, now: int) -> SigningKey:
        """The key retired now: it signs nothing more and verifies what it signed."""
        if self.status is not KeyStatus.ACTIVE:
            raise ValueError(f"key {self.kid} is {self.status}, not active")
        return replace(self, status=KeyStatus.RETIRED, retired_at=now)

    def revoke(self, now: int) -> SigningKey:
        """The key revoked: nothing it signed verifies any more."""
        if self.status is KeyStatus.REVOKED:
            raise ValueError(f"key {self.kid} is revoked already")
        return replace(self, status=KeyStatus.REVOKED, revoked_at=now)


@functools.lru_cache(maxsize=1024)
def _public_key(algorithm: Algorithm, x: str, y: str | None) -> PublicKey:
    # Parsing (and, for SM2, OpenSSL's on-curve check) once per key, not once per signature.
    members = {"kty": "EC", "crv": "SM2", "x": x, "y": y} if algorithm is Algorithm.SM2 else {
        "kty": "OKP", "crv": "Ed25519", "x": x}
    return public_key_from_jwk(members)


def new_kid(owner: str) -> str:
    """A key id naming its owner, e.g. ``320505-k-1a2b3c4d``."""
    return f"{owner}-k-{secrets.token_hex(4)}"


# --------------------------------------------------------------------------- audit chain

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One decision in the append-only audit log."""

    seq: int
    at: str
    locality: str
    actor: str
    action: str
    subject: str
    outcome: str
    detail: dict[str, object]
    prev_hash: str
    hash: str = ""
    hash_alg: HashName = HashName.SHA256
    """SHA-256, or SM3 for entries chained under the national suite (recorded per entry)."""


def audit_hash(entry: AuditEntry) -> str:
    """The hash of an entry: its hash over its canonical JSON (RFC 8785), which includes the previous hash.

    An SM3 entry's body also names its hash, so that a row cannot be passed off as the other kind.
    """
    body: dict[str, object] = {
        "seq": entry.seq, "at": entry.at, "locality": entry.locality, "actor": entry.actor,
        "action": entry.action, "subject": entry.subject, "outcome": entry.outcome,
        "detail": entry.detail, "prev_hash": entry.prev_hash,
    }
    if entry.hash_alg is not HashName.SHA256:
        body["hash_alg"] = entry.hash_alg.value
    return hexdigest(entry.hash_alg, rfc8785.dumps(cast(Any, body)))


def first_broken_link(entries: list[AuditEntry], start_hash: str = GENESIS) -> tuple[int, str] | None:
    """The sequence number of the first entry that breaks the chain and why, or None if it holds."""
    expected_prev = start_hash
    expected_seq = entries[0].seq if entries else 1
    for entry in entries:
        if entry.seq != expected_seq:
            return entry.seq, f"expected entry {expected_seq}, found {entry.seq} (a row is missing)"
        if entry.prev_hash != expected_prev:
            return entry.seq, "its previous-hash does not match the entry before it"
        if audit_hash(entry) != entry.hash:
            return entry.seq, "its content does not match its hash (the row was altered)"
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    return None
