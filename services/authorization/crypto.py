"""Ed25519 keys, JWK and compact JWS for the authorization service. No I/O.

Private keys are kept encrypted (AES-256-GCM, key from configuration) and never leave the service.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from shared.bounded_json import loads_json


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError when it is not."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64url") from exc


def new_keypair() -> tuple[bytes, str]:
    """A new Ed25519 key: its 32 raw private bytes and its public ``x`` (base64url)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return raw, b64url(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


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


def sign_compact(raw_private: bytes, header: dict[str, Any], payload: bytes) -> str:
    """A compact JWS (RFC 7515) with EdDSA over ``payload``."""
    protected = b64url(json.dumps({**header, "alg": "EdDSA"}, separators=(",", ":")).encode("utf-8"))
    body = b64url(payload)
    signature = Ed25519PrivateKey.from_private_bytes(raw_private).sign(f"{protected}.{body}".encode("ascii"))
    return f"{protected}.{body}.{b64url(signature)}"


def read_compact(jws: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """Split a compact JWS: header, payload, signing input, signature; ValueError when malformed."""
    parts = jws.split(".")
    if len(parts) != 3:
        raise ValueError("a compact JWS has three parts")
    try:
        header = loads_json(b64url_decode(parts[0]))
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValueError("the JWS header is not JSON") from exc
    if not isinstance(header, dict):
        raise ValueError("the JWS header is not a JSON object")
    return header, b64url_decode(parts[1]), f"{parts[0]}.{parts[1]}".encode("ascii"), b64url_decode(parts[2])


def verify_signature(x: str, signing_input: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``signing_input`` by the key ``x``."""
    try:
        Ed25519PublicKey.from_public_bytes(b64url_decode(x)).verify(signature, signing_input)
        return True
    except (InvalidSignature, ValueError):
        return False
