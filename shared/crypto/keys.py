"""Signing keys that know their algorithm: Ed25519 (RFC 8032) and SM2 with SM3 (GB/T 32918).

Every verifier takes the algorithm from the key it holds, never from the message: a key object is
made from a JWK by its ``kty``/``crv`` alone, and a JWK whose ``alg`` contradicts them is refused.
Signatures are fixed-length raw bytes for both: Ed25519's 64 bytes, and SM2's ``r || s`` (32 bytes
each, big-endian), the form JWS uses for ECDSA (RFC 7518 §3.4); :func:`sm2_signature_to_der` and
:func:`sm2_signature_from_der` convert to and from the DER form OpenSSL and certificates use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from shared.crypto import _libcrypto as sm2
from shared.crypto.encoding import b64url, b64url_decode

SM2_USER_ID = sm2.DEFAULT_USER_ID


class Algorithm(StrEnum):
    """A signature algorithm, as recorded with each key."""

    ED25519 = "Ed25519"
    SM2 = "SM2"
    """SM2 signature with SM3 and the default user id ``1234567812345678``."""

    @property
    def jose(self) -> str:
        """The JWS ``alg`` name: ``EdDSA`` (RFC 8037) or ``SM2SM3`` (unregistered; see docs/cryptography.md)."""
        return JOSE_ALGS[self]


JOSE_ALGS = {Algorithm.ED25519: "EdDSA", Algorithm.SM2: "SM2SM3"}
"""JWS ``alg`` of each algorithm. ``SM2SM3`` is the mnemonic IANA registered for SM2 with SM3 in DNSSEC
(RFC 9563, algorithm 17); JOSE has no registered name for SM2."""


class InvalidKey(ValueError):
    """A key that cannot be used: malformed, of an unknown type, or contradicting itself."""


class PublicKey(ABC):
    """A public key of a known algorithm."""

    algorithm: Algorithm

    @abstractmethod
    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` (raw form) signs ``data`` under this key."""

    @abstractmethod
    def jwk(self) -> dict[str, Any]:
        """The key's JWK members (``kty``, ``crv``, coordinates and ``alg``)."""

    @property
    def raw(self) -> bytes:
        """The public key's bytes (Ed25519's 32 bytes, SM2's uncompressed point): an identity for caches."""
        return self._raw

    _raw: bytes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and (self.algorithm, self.raw) == (other.algorithm, other.raw)

    def __hash__(self) -> int:
        return hash((self.algorithm, self.raw))


class PrivateKey(ABC):
    """A key pair of a known algorithm; the private part stays in the process."""

    algorithm: Algorithm

    @abstractmethod
    def sign(self, data: bytes) -> bytes:
        """The raw signature of ``data``."""

    @abstractmethod
    def public_key(self) -> PublicKey:
        """The public half."""

    @abstractmethod
    def private_bytes(self) -> bytes:
        """The 32 private bytes (Ed25519 seed or SM2 scalar), to be sealed at rest."""


class Ed25519Public(PublicKey):
    """An Ed25519 public key."""

    algorithm = Algorithm.ED25519

    def __init__(self, raw: bytes) -> None:
        try:
            self._key = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError as exc:
            raise InvalidKey("an Ed25519 public key is 32 bytes") from exc
        self._raw = raw

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def jwk(self) -> dict[str, Any]:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(self._raw), "alg": "EdDSA"}


class Ed25519Private(PrivateKey):
    """An Ed25519 key pair."""

    algorithm = Algorithm.ED25519

    def __init__(self, raw: bytes | None = None) -> None:
        try:
            self._key = Ed25519PrivateKey.generate() if raw is None else Ed25519PrivateKey.from_private_bytes(raw)
        except ValueError as exc:
            raise InvalidKey("an Ed25519 private key is 32 bytes") from exc
        self._public = Ed25519Public(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def public_key(self) -> PublicKey:
        return self._public

    def private_bytes(self) -> bytes:
        return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def sm2_signature_to_der(raw: bytes) -> bytes:
    """DER ``SEQUENCE {r, s}`` of a raw ``r || s`` SM2 signature."""
    if len(raw) != 64:
        raise ValueError("an SM2 signature is 64 bytes (r || s)")
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def sm2_signature_from_der(der: bytes) -> bytes:
    """Raw ``r || s`` of a DER SM2 signature; ValueError when it is not one."""
    r, s = decode_dss_signature(der)
    if r.bit_length() > 256 or s.bit_length() > 256:
        raise ValueError("not an SM2 signature")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class Sm2Public(PublicKey):
    """An SM2 public key (uncompressed point ``04 || x || y``, checked by OpenSSL)."""

    algorithm = Algorithm.SM2

    def __init__(self, point: bytes, user_id: bytes = SM2_USER_ID) -> None:
        try:
            self._key = sm2.load_public(point)
        except ValueError as exc:
            raise InvalidKey(f"not an SM2 public key: {exc}") from exc
        self._raw, self.user_id = point, user_id

    @classmethod
    def from_coordinates(cls, x: bytes, y: bytes) -> Sm2Public:
        """The key of the affine coordinates (32 bytes each)."""
        if len(x) != 32 or len(y) != 32:
            raise InvalidKey("SM2 coordinates are 32 bytes each")
        return cls(b"\x04" + x + y)

    def verify(self, signature: bytes, data: bytes) -> bool:
        if len(signature) != 64:
            return False
        return sm2.verify(self._key, sm2_signature_to_der(signature), data, self.user_id)

    def jwk(self) -> dict[str, Any]:
        return {"kty": "EC", "crv": "SM2", "x": b64url(self._raw[1:33]), "y": b64url(self._raw[33:]),
                "alg": "SM2SM3"}

    def spki_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo (for PEM files other tools read)."""
        return sm2.spki(self._raw)


class Sm2Private(PrivateKey):
    """An SM2 key pair, held by OpenSSL."""

    algorithm = Algorithm.SM2

    def __init__(self, raw: bytes | None = None, user_id: bytes = SM2_USER_ID) -> None:
        try:
            self._key = sm2.generate() if raw is None else sm2.load_private(raw)
        except ValueError as exc:
            raise InvalidKey(f"not an SM2 private key: {exc}") from exc
        self.user_id = user_id
        self._public = Sm2Public(sm2.public_point(self._key), user_id)

    def sign(self, data: bytes) -> bytes:
        return sm2_signature_from_der(sm2.sign(self._key, data, self.user_id))

    def public_key(self) -> PublicKey:
        return self._public

    def private_bytes(self) -> bytes:
        return sm2.private_scalar(self._key)

    def ec_private_key_der(self) -> bytes:
        """The DER ECPrivateKey (RFC 5915) of this key, for tools such as the OpenSSL command line."""
        return sm2.ec_private_key_der(self.private_bytes(), self._public.raw)


def generate(algorithm: Algorithm) -> PrivateKey:
    """A new key pair of ``algorithm``."""
    return Ed25519Private() if algorithm is Algorithm.ED25519 else Sm2Private()


def load_private(algorithm: Algorithm | str, raw: bytes) -> PrivateKey:
    """The key pair of ``algorithm`` from its 32 private bytes (as sealed)."""
    algorithm = Algorithm(algorithm)
    return Ed25519Private(raw) if algorithm is Algorithm.ED25519 else Sm2Private(raw)


_JWK_KINDS = {("OKP", "Ed25519"): Algorithm.ED25519, ("EC", "SM2"): Algorithm.SM2}


def algorithm_of_jwk(jwk: dict[str, Any]) -> Algorithm:
    """The algorithm a JWK's ``kty`` and ``crv`` name; InvalidKey when unknown or contradicted by ``alg``."""
    if not isinstance(jwk, dict):
        raise InvalidKey("a JWK is a JSON object")
    algorithm = _JWK_KINDS.get((str(jwk.get("kty")), str(jwk.get("crv"))))
    if algorithm is None:
        raise InvalidKey(f"unsupported key type {jwk.get('kty')!r} / curve {jwk.get('crv')!r}")
    if "alg" in jwk and jwk["alg"] != algorithm.jose:
        raise InvalidKey(f"the JWK's alg {jwk['alg']!r} does not match its key type ({algorithm.jose})")
    return algorithm


def public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """The public key a JWK describes; its algorithm comes from ``kty``/``crv``."""
    algorithm = algorithm_of_jwk(jwk)
    try:
        if algorithm is Algorithm.ED25519:
            return Ed25519Public(b64url_decode(jwk["x"]))
        return Sm2Public.from_coordinates(b64url_decode(jwk["x"]), b64url_decode(jwk["y"]))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InvalidKey):
            raise
        raise InvalidKey(f"malformed {algorithm.value} JWK") from exc


def public_jwk(key: PublicKey, kid: str, **members: Any) -> dict[str, Any]:
    """The published JWK of ``key``: its key members, ``kid``, ``use: sig`` and any extra members."""
    return {**key.jwk(), "kid": kid, "use": "sig", **members}
