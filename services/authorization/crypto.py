"""Keys, JWK and compact JWS for the authorization service, in the deployment's suite. No I/O.

The algorithms live in :mod:`shared.crypto` (Ed25519, or SM2 with SM3); this module keeps the
service's sealing of private keys at rest and the Ed25519 helpers older callers and tests use.
Private keys are kept encrypted (AES-256-GCM, key from configuration) and never leave the service.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto import (
    Ed25519Private,
    Ed25519Public,
    PrivateKey,
    b64url,
    b64url_decode,
    read_compact,
    sign_compact,
)

__all__ = ["PrivateKey", "b64url", "b64url_decode", "new_keypair", "public_jwk", "read_compact", "seal",
           "sign_compact", "unseal", "verify_signature"]


def new_keypair() -> tuple[bytes, str]:
    """A new Ed25519 key: its 32 raw private bytes and its public ``x`` (base64url)."""
    private = Ed25519Private()
    return private.private_bytes(), b64url(private.public_key().raw)


def seal(raw_private: bytes, key: bytes, kid: str) -> bytes:
    """Encrypt a private key at rest, bound to its key id."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, raw_private, kid.encode("utf-8"))


def unseal(sealed: bytes, key: bytes, kid: str) -> bytes:
    """Decrypt a private key sealed by :func:`seal`; ValueError when the key or data is wrong."""
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], kid.encode("utf-8"))
    except InvalidTag as exc:
        raise ValueError(f"cannot decrypt key {kid}: wrong configuration key or tampered data") from exc


SEALED_MAGIC = b"TBS1"
"""Prefix of a private key sealed under a named version of the seal key (older seals have none)."""


def seal_versioned(raw_private: bytes, seal_id: str, key: bytes, kid: str) -> bytes:
    """Seal under one version of the seal key, naming it, so the seal key rotates on its own."""
    name = seal_id.encode("ascii")
    return SEALED_MAGIC + bytes([len(name)]) + name + seal(raw_private, key, kid)


def sealed_under(sealed: bytes) -> str | None:
    """The version of the seal key a private key was sealed under (None: before versions)."""
    if not sealed.startswith(SEALED_MAGIC):
        return None
    size = sealed[len(SEALED_MAGIC)]
    return sealed[len(SEALED_MAGIC) + 1:len(SEALED_MAGIC) + 1 + size].decode("ascii", "replace")


def unseal_versioned(sealed: bytes, keys: dict[str, bytes], kid: str) -> bytes:
    """Open a seal made by :func:`seal_versioned` (or an unnamed older one, tried under every version)."""
    if sealed.startswith(SEALED_MAGIC):
        size = sealed[len(SEALED_MAGIC)]
        start = len(SEALED_MAGIC) + 1
        seal_id = sealed[start:start + size].decode("ascii", "replace")
        if seal_id not in keys:
            raise ValueError(f"cannot decrypt key {kid}: seal key version {seal_id} is not configured")
        return unseal(sealed[start + size:], keys[seal_id], kid)
    for key in reversed(list(keys.values())):
        try:
            return unseal(sealed, key, kid)
        except ValueError:
            continue
    raise ValueError(f"cannot decrypt key {kid}: wrong configuration key or tampered data")


def public_jwk(kid: str, x: str, **members: Any) -> dict[str, Any]:
    """The public JWK (RFC 8037 OKP) of an Ed25519 key."""
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig", **members}


def verify_signature(x: str, signing_input: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``signing_input`` by the key ``x``."""
    try:
        return Ed25519Public(b64url_decode(x)).verify(signature, signing_input)
    except ValueError:
        return False
