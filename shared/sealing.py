"""Personal data and secrets sealed at rest under a service's own key, naming the cipher and key version.

A sealed value is the text ``<cipher>:<key id>.<base64url(nonce + ciphertext + tag)>``: the cipher
(``A256GCM`` or ``SM4GCM``, docs/cryptography.md) is the one the key set's suite chose when it was
sealed, and the key id names the version of the key. A reader takes both from the value, never from
the setting, so a deployment that switches suite keeps opening what it sealed before, and the key
rotates (a new line in its key file) while older values still open. Values from before ciphers were
named (``<key id>.<data>``) are AES-256-GCM. ``context`` is bound as associated data: a value copied
onto another row does not open. The cipher's key is derived from the key file's secret by HKDF with
the cipher's own hash (SHA-256 for AES, SM3 for SM4).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.crypto import Aead, AeadName, DecryptionError
from shared.keys import Key, KeySet

_PURPOSE = "tongban-seal-v1"
_CIPHERS = {c.value: c for c in AeadName}


class SealError(ValueError):
    """A sealed value that does not open: unknown cipher or key version, wrong key or altered data."""


def is_sealed(value: object) -> bool:
    """Whether ``value`` looks like a value made by :func:`seal_text`."""
    return isinstance(value, str) and "." in value and not value.startswith("{")


def _aead(cipher: AeadName, key: Key) -> Aead:
    return Aead.derived(cipher, key.secret, _PURPOSE)


def sealed_with(sealed: str) -> tuple[AeadName, str]:
    """The cipher and key version a value was sealed with (read from the value alone)."""
    head = sealed.rpartition(".")[0]
    name, colon, key_id = head.partition(":")
    if not colon:
        return AeadName.AES_256_GCM, head  # sealed before ciphers were named
    cipher = _CIPHERS.get(name)
    if cipher is None:
        raise SealError(f"a value sealed with an unknown cipher {name!r}")
    return cipher, key_id


def seal_text(keys: KeySet, plaintext: str, context: str) -> str:
    """Seal ``plaintext`` with the key set's cipher under its current version."""
    key = keys.current
    body = _aead(keys.cipher, key).encrypt(plaintext.encode("utf-8"), context.encode("utf-8"))
    return f"{keys.cipher.value}:{key.id}.{base64.urlsafe_b64encode(body).decode('ascii').rstrip('=')}"


def open_text(keys: KeySet, sealed: str, context: str) -> str:
    """The plaintext of a value sealed by :func:`seal_text`; SealError when it does not open."""
    cipher, key_id = sealed_with(sealed)
    key = keys.get(key_id)
    if key is None:
        raise SealError(f"sealed under key version {key_id!r}, which {keys.name} no longer holds")
    data = sealed.rpartition(".")[2]
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        plain = _aead(cipher, key).decrypt(raw, context.encode("utf-8"))
    except (DecryptionError, ValueError) as exc:
        raise SealError(f"a value sealed with {cipher.value} under {keys.name}:{key_id} does not open") from exc
    return plain.decode("utf-8")


def needs_reseal(keys: KeySet, sealed: str) -> bool:
    """Whether a value is sealed with another cipher than the key set's (after the suite changed)."""
    return sealed_with(sealed)[0] is not keys.cipher


def seal_json(keys: KeySet, value: Any, context: str) -> str:
    """Seal a JSON value."""
    return seal_text(keys, json.dumps(value, ensure_ascii=False, separators=(",", ":")), context)


def open_json(keys: KeySet, sealed: str, context: str) -> Any:
    """Open a JSON value sealed by :func:`seal_json`."""
    return json.loads(open_text(keys, sealed, context))
