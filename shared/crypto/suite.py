"""The two cryptographic suites a deployment can choose (``TONGBAN_CRYPTO_SUITE``).

``international``: Ed25519 signatures, SHA-256, AES-256-GCM (what Tongban used from the start).
``national``: SM2 signatures with SM3 and the default user id (GB/T 32918), SM3 (GB/T 32905),
SM4-GCM (GB/T 32907 in GCM, as RFC 8998 uses it). SM3 and SM4 come from ``cryptography``, SM2 from
OpenSSL's libcrypto. The suite only decides what is *made*: keys record their own algorithm and
hashes their own name, so what was made under the other suite still verifies.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.crypto.keys import Algorithm, PrivateKey, generate


class HashName(StrEnum):
    """A hash, by the name recorded beside a digest."""

    SHA256 = "sha256"
    SM3 = "sm3"


class AeadName(StrEnum):
    """An authenticated cipher, by the name recorded beside a ciphertext."""

    AES_256_GCM = "A256GCM"
    SM4_GCM = "SM4GCM"


def digest(name: HashName | str, data: bytes) -> bytes:
    """The ``name`` digest of ``data``."""
    if HashName(name) is HashName.SHA256:
        return hashlib.sha256(data).digest()
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def hexdigest(name: HashName | str, data: bytes) -> str:
    """The ``name`` digest of ``data`` in lower-case hex."""
    return digest(name, data).hex()


class Hasher:
    """A running ``name`` digest of data that arrives in parts (an upload's chunks)."""

    def __init__(self, name: HashName | str) -> None:
        self.name = HashName(name)
        self._hash = hashes.Hash(hashes.SHA256() if self.name is HashName.SHA256 else hashes.SM3())

    def update(self, data: bytes) -> None:
        """Add the next part."""
        self._hash.update(data)

    def hexdigest(self) -> str:
        """The digest of everything added, in lower-case hex (the hasher is done after this)."""
        return self._hash.finalize().hex()


class DecryptionError(ValueError):
    """A ciphertext that does not decrypt: wrong key, wrong associated data, or tampered."""


_NONCE = 12
_TAG = 16
_KDF_HASH = {AeadName.AES_256_GCM: HashName.SHA256, AeadName.SM4_GCM: HashName.SM3}
"""The hash of each cipher's key derivation: a national record uses no international algorithm, and back."""


def derive_key(name: AeadName | str, secret: bytes, purpose: str) -> bytes:
    """A key of cipher ``name`` for ``purpose`` from a secret: HKDF (RFC 5869) with SHA-256 for AES-256-GCM
    (32 bytes) and with SM3 for SM4-GCM (16 bytes)."""
    cipher = AeadName(name)
    algorithm: hashes.HashAlgorithm = hashes.SHA256() if _KDF_HASH[cipher] is HashName.SHA256 else hashes.SM3()
    return HKDF(algorithm, Aead.key_size(cipher), salt=None, info=purpose.encode("utf-8")).derive(secret)


class Aead:
    """AES-256-GCM or SM4-GCM (both from ``cryptography``'s OpenSSL) with 96-bit nonces and 128-bit tags.

    :meth:`encrypt` draws a random nonce and returns ``nonce || ciphertext || tag``; :meth:`encrypt_at`
    takes the caller's nonce (chunked files count theirs) and returns ``ciphertext || tag``.
    """

    def __init__(self, name: AeadName | str, key: bytes) -> None:
        self.name = AeadName(name)
        if len(key) != self.key_size(self.name):
            raise ValueError(f"{self.name.value} takes a {self.key_size(self.name)}-byte key")
        self._aes = AESGCM(key) if self.name is AeadName.AES_256_GCM else None
        self._key = key

    @staticmethod
    def key_size(name: AeadName | str) -> int:
        """Key length in bytes: 32 for AES-256, 16 for SM4."""
        return 32 if AeadName(name) is AeadName.AES_256_GCM else 16

    @classmethod
    def derived(cls, name: AeadName | str, secret: bytes, purpose: str) -> Aead:
        """The cipher ``name`` under the key :func:`derive_key` gives for ``purpose``."""
        return cls(name, derive_key(name, secret, purpose))

    @classmethod
    def generate_key(cls, name: AeadName | str) -> bytes:
        """A fresh random key for the cipher ``name`` (a file's data key)."""
        return os.urandom(cls.key_size(name))

    def encrypt_at(self, nonce: bytes, plaintext: bytes, associated: bytes = b"") -> bytes:
        """``ciphertext || tag`` of ``plaintext`` under a 12-byte ``nonce`` the caller never repeats for a key."""
        if len(nonce) != _NONCE:
            raise ValueError("the nonce is 12 bytes")
        if self._aes is not None:
            return self._aes.encrypt(nonce, plaintext, associated)
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(associated)
        return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag

    def decrypt_at(self, nonce: bytes, sealed: bytes, associated: bytes = b"") -> bytes:
        """The plaintext of :meth:`encrypt_at`'s output; DecryptionError when it does not authenticate."""
        if len(nonce) != _NONCE or len(sealed) < _TAG:
            raise DecryptionError(f"{self.name.value}: ciphertext too short")
        try:
            if self._aes is not None:
                return self._aes.decrypt(nonce, sealed, associated)
            decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, sealed[-_TAG:])).decryptor()
            decryptor.authenticate_additional_data(associated)
            return decryptor.update(sealed[:-_TAG]) + decryptor.finalize()
        except InvalidTag as exc:
            raise DecryptionError(f"{self.name.value}: wrong key, wrong associated data or tampered") from exc

    def encrypt(self, plaintext: bytes, associated: bytes = b"") -> bytes:
        """Encrypt and authenticate ``plaintext`` under a random nonce, binding ``associated``."""
        nonce = os.urandom(_NONCE)
        return nonce + self.encrypt_at(nonce, plaintext, associated)

    def decrypt(self, sealed: bytes, associated: bytes = b"") -> bytes:
        """The plaintext of :meth:`encrypt`'s output; DecryptionError when it does not authenticate."""
        if len(sealed) < _NONCE + _TAG:
            raise DecryptionError("ciphertext too short")
        return self.decrypt_at(sealed[:_NONCE], sealed[_NONCE:], associated)


class SuiteName(StrEnum):
    """The setting's values."""

    INTERNATIONAL = "international"
    NATIONAL = "national"


@dataclass(frozen=True)
class Suite:
    """What a deployment uses for new keys, hashes and encryption."""

    name: SuiteName
    signature: Algorithm
    hash: HashName
    aead: AeadName

    def new_signing_key(self) -> PrivateKey:
        """A fresh key pair of this suite's signature algorithm."""
        return generate(self.signature)

    def digest(self, data: bytes) -> bytes:
        """This suite's hash of ``data``."""
        return digest(self.hash, data)

    def hexdigest(self, data: bytes) -> str:
        """This suite's hash of ``data`` in hex."""
        return hexdigest(self.hash, data)

    @property
    def key_size(self) -> int:
        """The symmetric key length of this suite's cipher."""
        return Aead.key_size(self.aead)

    def derive_key(self, secret: bytes, purpose: str) -> bytes:
        """A cipher key for ``purpose`` from a secret, by HKDF with this suite's hash (RFC 5869)."""
        return derive_key(self.aead, secret, purpose)

    def cipher(self, key: bytes) -> Aead:
        """This suite's authenticated cipher under ``key``."""
        return Aead(self.aead, key)


INTERNATIONAL = Suite(SuiteName.INTERNATIONAL, Algorithm.ED25519, HashName.SHA256, AeadName.AES_256_GCM)
NATIONAL = Suite(SuiteName.NATIONAL, Algorithm.SM2, HashName.SM3, AeadName.SM4_GCM)


def suite(name: SuiteName | str) -> Suite:
    """The suite called ``name``; ValueError for another name."""
    try:
        return {SuiteName.INTERNATIONAL: INTERNATIONAL, SuiteName.NATIONAL: NATIONAL}[SuiteName(name)]
    except ValueError as exc:
        raise ValueError(f"unknown crypto suite {name!r}: use international or national") from exc
