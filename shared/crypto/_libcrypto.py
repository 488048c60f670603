"""SM2 signatures through the system's OpenSSL 3 libcrypto (EVP API, by ctypes).

``cryptography`` offers SM3 and SM4 but not SM2, and no maintained PyPI binding wraps OpenSSL's SM2;
OpenSSL 3.0 and later implement it (the ``SM2`` key type and signature with SM3 and a distinguishing
identifier). This module only calls OpenSSL: it does no curve arithmetic. Keys cross the boundary
as DER (SubjectPublicKeyInfo, ECPrivateKey), which OpenSSL parses and checks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from ctypes import POINTER, byref, c_char_p, c_int, c_long, c_size_t, c_ubyte, c_void_p
from functools import cache

DEFAULT_USER_ID = b"1234567812345678"
"""The default distinguishing identifier of GB/T 35276 / GM/T 0009 (ASCII "1234567812345678")."""

_SM2_OID = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")
"""DER of SubjectPublicKeyInfo{id-ecPublicKey, sm2} up to the BIT STRING content 04||x||y."""


class OpenSSLError(RuntimeError):
    """libcrypto is missing, too old, or refused an operation."""


@cache
def _lib() -> ctypes.CDLL:
    """The loaded libcrypto with the prototypes used here (OpenSSL 3 or later)."""
    names = ["libcrypto.so.3", ctypes.util.find_library("crypto") or "", "libcrypto.dylib"]
    for name in filter(None, names):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        raise OpenSSLError("libcrypto (OpenSSL 3) is not installed; the national suite needs it")
    if not hasattr(lib, "OpenSSL_version_num") or lib.OpenSSL_version_num() < 0x30000000:
        raise OpenSSLError("the national suite needs OpenSSL 3.0 or later for SM2")
    sigs: dict[str, tuple[object, list[object]]] = {
        "OpenSSL_version_num": (c_long, []),
        "EVP_PKEY_CTX_new_from_name": (c_void_p, [c_void_p, c_char_p, c_char_p]),
        "EVP_PKEY_CTX_new_from_pkey": (c_void_p, [c_void_p, c_void_p, c_char_p]),
        "EVP_PKEY_CTX_free": (None, [c_void_p]),
        "EVP_PKEY_keygen_init": (c_int, [c_void_p]),
        "EVP_PKEY_CTX_set_group_name": (c_int, [c_void_p, c_char_p]),
        "EVP_PKEY_generate": (c_int, [c_void_p, POINTER(c_void_p)]),
        "EVP_PKEY_free": (None, [c_void_p]),
        "EVP_PKEY_is_a": (c_int, [c_void_p, c_char_p]),
        "EVP_PKEY_CTX_set1_id": (c_int, [c_void_p, c_void_p, c_int]),
        "EVP_MD_CTX_new": (c_void_p, []),
        "EVP_MD_CTX_free": (None, [c_void_p]),
        "EVP_MD_CTX_set_pkey_ctx": (None, [c_void_p, c_void_p]),
        "EVP_sm3": (c_void_p, []),
        "EVP_DigestSignInit": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p]),
        "EVP_DigestSign": (c_int, [c_void_p, c_void_p, POINTER(c_size_t), c_char_p, c_size_t]),
        "EVP_DigestVerifyInit": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p]),
        "EVP_DigestVerify": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p, c_size_t]),
        "d2i_PUBKEY": (c_void_p, [c_void_p, POINTER(POINTER(c_ubyte)), c_long]),
        "d2i_PrivateKey": (c_void_p, [c_int, c_void_p, POINTER(POINTER(c_ubyte)), c_long]),
        "i2d_PUBKEY": (c_int, [c_void_p, POINTER(POINTER(c_ubyte))]),
        "EVP_PKEY_get_bn_param": (c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
        "BN_bn2binpad": (c_int, [c_void_p, c_void_p, c_int]),
        "BN_clear_free": (None, [c_void_p]),
        "ERR_clear_error": (None, []),
    }
    for name, (restype, argtypes) in sigs.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


_NID_SM2 = 1172


def available() -> bool:
    """Whether SM2 can be used on this machine."""
    try:
        _lib()
    except OpenSSLError:
        return False
    return True


class Pkey:
    """An owned ``EVP_PKEY *`` (freed with the object)."""

    __slots__ = ("__weakref__", "ptr")

    def __init__(self, ptr: int) -> None:
        if not ptr:
            _lib().ERR_clear_error()
            raise ValueError("OpenSSL did not accept the SM2 key")
        lib = _lib()
        if lib.EVP_PKEY_is_a(ptr, b"SM2") != 1:
            lib.EVP_PKEY_free(ptr)
            raise ValueError("the key is not an SM2 key")
        self.ptr = ptr

    def __del__(self) -> None:
        ptr = getattr(self, "ptr", None)
        if ptr:
            _lib().EVP_PKEY_free(ptr)


def generate() -> Pkey:
    """A new SM2 key pair on the curve of GB/T 32918.5."""
    lib = _lib()
    ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
    if not ctx:
        raise OpenSSLError("this OpenSSL has no SM2 key type")
    try:
        out = c_void_p()
        if (lib.EVP_PKEY_keygen_init(ctx) != 1 or lib.EVP_PKEY_CTX_set_group_name(ctx, b"SM2") != 1
                or lib.EVP_PKEY_generate(ctx, byref(out)) != 1):
            lib.ERR_clear_error()
            raise OpenSSLError("SM2 key generation failed")
        return Pkey(out.value or 0)
    finally:
        lib.EVP_PKEY_CTX_free(ctx)


def _der_length(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x81, n])


def ec_private_key_der(d: bytes, point: bytes | None = None) -> bytes:
    """DER ECPrivateKey (RFC 5915) of the scalar ``d`` on the SM2 curve, with the public point if given."""
    params = b"\xa0" + _der_length(len(_SM2_OID)) + _SM2_OID
    public = b"" if point is None else b"\xa1\x44\x03\x42\x00" + point
    body = b"\x02\x01\x01" + b"\x04\x20" + d + params + public
    return b"\x30" + _der_length(len(body)) + body


def spki(point: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of an SM2 point ``04 || x || y``."""
    return _SPKI_PREFIX + point


def load_private(d: bytes) -> Pkey:
    """The SM2 key of the 32-byte private scalar ``d`` (OpenSSL derives and checks the public point)."""
    if len(d) != 32:
        raise ValueError("an SM2 private key is 32 bytes")
    der = ec_private_key_der(d)
    buffer = (c_ubyte * len(der)).from_buffer_copy(der)
    cursor = ctypes.cast(buffer, POINTER(c_ubyte))
    return Pkey(_lib().d2i_PrivateKey(_NID_SM2, None, byref(cursor), len(der)) or 0)


def load_public(point: bytes) -> Pkey:
    """The SM2 public key of an uncompressed point ``04 || x || y`` (OpenSSL checks it is on the curve)."""
    if len(point) != 65 or point[0] != 4:
        raise ValueError("an SM2 public key is an uncompressed point of 65 bytes")
    der = _SPKI_PREFIX + point
    buffer = (c_ubyte * len(der)).from_buffer_copy(der)
    cursor = ctypes.cast(buffer, POINTER(c_ubyte))
    return Pkey(_lib().d2i_PUBKEY(None, byref(cursor), len(der)) or 0)


def public_point(key: Pkey) -> bytes:
    """``04 || x || y`` of a key (read back from its DER SubjectPublicKeyInfo)."""
    lib = _lib()
    size = lib.i2d_PUBKEY(key.ptr, None)
    if size != len(_SPKI_PREFIX) + 65:
        raise OpenSSLError("unexpected SM2 public key encoding")
    buffer = (c_ubyte * size)()
    cursor = ctypes.cast(buffer, POINTER(c_ubyte))
    lib.i2d_PUBKEY(key.ptr, byref(cursor))
    der = bytes(buffer)
    if not der.startswith(_SPKI_PREFIX):
        raise OpenSSLError("unexpected SM2 public key encoding")
    return der[len(_SPKI_PREFIX):]


def private_scalar(key: Pkey) -> bytes:
    """The 32-byte private scalar of a key pair (to seal it at rest)."""
    lib = _lib()
    bn = c_void_p()
    if lib.EVP_PKEY_get_bn_param(key.ptr, b"priv", byref(bn)) != 1:
        lib.ERR_clear_error()
        raise ValueError("not an SM2 private key")
    try:
        out = (c_ubyte * 32)()
        if lib.BN_bn2binpad(bn, out, 32) != 32:
            raise OpenSSLError("cannot export the SM2 private key")
        return bytes(out)
    finally:
        lib.BN_clear_free(bn)


def _digest_context(key: Pkey, user_id: bytes) -> tuple[int, int]:
    lib = _lib()
    mctx = lib.EVP_MD_CTX_new()
    pctx = lib.EVP_PKEY_CTX_new_from_pkey(None, key.ptr, None)
    if not mctx or not pctx:
        lib.EVP_MD_CTX_free(mctx)
        lib.EVP_PKEY_CTX_free(pctx)
        raise OpenSSLError("out of memory")
    if lib.EVP_PKEY_CTX_set1_id(pctx, user_id, len(user_id)) != 1:
        lib.EVP_MD_CTX_free(mctx)
        lib.EVP_PKEY_CTX_free(pctx)
        lib.ERR_clear_error()
        raise OpenSSLError("cannot set the SM2 user id")
    lib.EVP_MD_CTX_set_pkey_ctx(mctx, pctx)
    return mctx, pctx


def sign(key: Pkey, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """The DER signature (SM2 with SM3, Z computed with ``user_id``) of ``data``."""
    lib = _lib()
    mctx, pctx = _digest_context(key, user_id)
    try:
        out = (c_ubyte * 80)()
        size = c_size_t(len(out))
        if (lib.EVP_DigestSignInit(mctx, None, lib.EVP_sm3(), None, key.ptr) != 1
                or lib.EVP_DigestSign(mctx, out, byref(size), data, len(data)) != 1):
            lib.ERR_clear_error()
            raise ValueError("SM2 signing failed (is it a private key?)")
        return bytes(out[: size.value])
    finally:
        lib.EVP_MD_CTX_free(mctx)
        lib.EVP_PKEY_CTX_free(pctx)


def verify(key: Pkey, signature_der: bytes, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bool:
    """Whether ``signature_der`` is an SM2-with-SM3 signature of ``data`` by ``key``."""
    lib = _lib()
    mctx, pctx = _digest_context(key, user_id)
    try:
        if lib.EVP_DigestVerifyInit(mctx, None, lib.EVP_sm3(), None, key.ptr) != 1:
            lib.ERR_clear_error()
            raise OpenSSLError("SM2 verification could not start")
        ok = lib.EVP_DigestVerify(mctx, signature_der, len(signature_der), data, len(data)) == 1
        lib.ERR_clear_error()
        return ok
    finally:
        lib.EVP_MD_CTX_free(mctx)
        lib.EVP_PKEY_CTX_free(pctx)
