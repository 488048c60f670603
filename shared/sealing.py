"""Personal data sealed at rest: AES-256-GCM under a service's own key, naming the key version.

A sealed value is the text ``<key id>.<base64url(nonce + ciphertext)>``; the key id names the version
of the key that sealed it, so the key rotates (a new line in its key file) while older values
still open. ``context`` is bound as associated data: a value copied onto another row does not open.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.keys import KeySet


class SealError(ValueError):
    """A sealed value that does not open: unknown key version, wrong key or altered data."""


def _aes_key(secret: bytes) -> bytes:
    """A 256-bit AES key from a key file's secret (which may be longer or shorter than 32 bytes)."""
    return HKDF(SHA256(), 32, salt=None, info=b"tongban-seal-v1").derive(secret)


def is_sealed(value: object) -> bool:
    """Whether ``value`` looks like a value made by :func:`seal_text`."""
    return isinstance(value, str) and "." in value and not value.startswith("{")


def seal_text(keys: KeySet, plaintext: str, context: str) -> str:
    """Seal ``plaintext`` under the current version of ``keys``."""
    key = keys.current
    nonce = os.urandom(12)
    body = AESGCM(_aes_key(key.secret)).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return f"{key.id}.{base64.urlsafe_b64encode(nonce + body).decode('ascii').rstrip('=')}"


def open_text(keys: KeySet, sealed: str, context: str) -> str:
    """The plaintext of a value sealed by :func:`seal_text`; SealError when it does not open."""
    key_id, _, data = sealed.partition(".")
    key = keys.get(key_id)
    if key is None:
        raise SealError(f"sealed under key version {key_id!r}, which {keys.name} no longer holds")
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        plain = AESGCM(_aes_key(key.secret)).decrypt(raw[:12], raw[12:], context.encode("utf-8"))
    except (InvalidTag, ValueError) as exc:
        raise SealError(f"a value sealed under {keys.name}:{key_id} does not open") from exc
    return plain.decode("utf-8")


def seal_json(keys: KeySet, value: Any, context: str) -> str:
    """Seal a JSON value."""
    return seal_text(keys, json.dumps(value, ensure_ascii=False, separators=(",", ":")), context)


def open_json(keys: KeySet, sealed: str, context: str) -> Any:
    """Open a JSON value sealed by :func:`seal_json`."""
    return json.loads(open_text(keys, sealed, context))
