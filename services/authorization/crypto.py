"""Keys, JWK and compact JWS for the authorization service, in the deployment's suite. No I/O.

The algorithms live in :mod:`shared.crypto` (Ed25519, or SM2 with SM3); this module keeps the
service's sealing of private keys at rest and the Ed25519 helpers older callers and tests use.
Private keys are kept encrypted and never leave the service: sealed with the suite's cipher
(AES-256-GCM or SM4-GCM) under a version of the ``signing-key-seal`` key, each seal naming both.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto import (
    Aead,
    AeadName,
    DecryptionError,
    Ed25519Private,
    Ed25519Public,
    PrivateKey,
    b64url,
    b64url_decode,
    read_compact,
    sign_compact,
)

__all__ = ["PrivateKey", "b64url", "b64url_decode", "new_keypair", "public_jwk", "read_compact", "seal",
           "seal_named", "sign_compact", "unseal", "verify_signature"]


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
"""Prefix of a private key sealed with AES-256-GCM under a named version of the seal key (older seals have none)."""
NAMED_MAGIC = b"TBS2"
"""Prefix of a seal that names its cipher and its version of the seal key (what the service writes now)."""
_PURPOSE = "tongban-signing-key-seal-v2"
_CIPHERS = {c.value.encode("ascii"): c for c in AeadName}


def _field(sealed: bytes, at: int) -> tuple[str, int]:
    """A length-prefixed ASCII field of a seal's header and where the next one starts."""
    size = sealed[at]
    return sealed[at + 1:at + 1 + size].decode("ascii", "replace"), at + 1 + size


def seal_named(raw_private: bytes, cipher: AeadName, seal_id: str, key: bytes, kid: str) -> bytes:
    """Seal with ``cipher`` under one version of the seal key, naming both: ``TBS2 | cipher | version | sealed``.

    The cipher's key is derived from the seal key's secret with the cipher's own hash (HKDF-SHA256 for
    AES-256-GCM, HKDF-SM3 for SM4-GCM); the key id is bound as associated data.
    """
    name, version = cipher.value.encode("ascii"), seal_id.encode("ascii")
    body = Aead.derived(cipher, key, _PURPOSE).encrypt(raw_private, kid.encode("utf-8"))
    return NAMED_MAGIC + bytes([len(name)]) + name + bytes([len(version)]) + version + body


def sealed_cipher(sealed: bytes) -> AeadName:
    """The cipher a private key was sealed with (AES-256-GCM for the seals made before ciphers were named)."""
    if not sealed.startswith(NAMED_MAGIC):
        return AeadName.AES_256_GCM
    name, _next = _field(sealed, len(NAMED_MAGIC))
    cipher = _CIPHERS.get(name.encode("ascii"))
    if cipher is None:
        raise ValueError(f"a private key sealed with an unknown cipher {name!r}")
    return cipher


def seal_versioned(raw_private: bytes, seal_id: str, key: bytes, kid: str) -> bytes:
    """Seal under one version of the seal key, naming it, so the seal key rotates on its own."""
    name = seal_id.encode("ascii")
    return SEALED_MAGIC + bytes([len(name)]) + name + seal(raw_private, key, kid)


def sealed_under(sealed: bytes) -> str | None:
    """The version of the seal key a private key was sealed under (None: before versions)."""
    if sealed.startswith(NAMED_MAGIC):
        return _field(sealed, _field(sealed, len(NAMED_MAGIC))[1])[0]
    if not sealed.startswith(SEALED_MAGIC):
        return None
    size = sealed[len(SEALED_MAGIC)]
    return sealed[len(SEALED_MAGIC) + 1:len(SEALED_MAGIC) + 1 + size].decode("ascii", "replace")


def unseal_versioned(sealed: bytes, keys: dict[str, bytes], kid: str) -> bytes:
    """Open a seal made by :func:`seal_named` or :func:`seal_versioned` (or an unnamed older one, tried
    under every version); the cipher and the version come from the seal."""
    if sealed.startswith(NAMED_MAGIC):
        cipher = sealed_cipher(sealed)
        seal_id, start = _field(sealed, _field(sealed, len(NAMED_MAGIC))[1])
        if seal_id not in keys:
            raise ValueError(f"cannot decrypt key {kid}: seal key version {seal_id} is not configured")
        try:
            return Aead.derived(cipher, keys[seal_id], _PURPOSE).decrypt(sealed[start:], kid.encode("utf-8"))
        except DecryptionError as exc:
            raise ValueError(f"cannot decrypt key {kid} ({cipher.value}): wrong seal key or tampered data") from exc
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
