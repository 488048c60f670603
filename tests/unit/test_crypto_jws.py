"""JWS with keys that carry their algorithm: both suites, mixed keys, and no algorithm confusion."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from shared.crypto import (
    INTERNATIONAL,
    NATIONAL,
    Aead,
    AeadName,
    Algorithm,
    AlgorithmMismatch,
    DecryptionError,
    Ed25519Private,
    InvalidKey,
    JwsError,
    PublicKey,
    Sm2Private,
    Suite,
    algorithm_of_jwk,
    b64url,
    b64url_decode,
    load_private,
    public_jwk,
    public_key_from_jwk,
    read_compact,
    sign_compact,
    suite,
    verify_compact,
    verify_with,
)


def _reheader(jws: str, **changes: object) -> str:
    """The same payload and signature under a header with ``changes`` (what an attacker can do)."""
    header, _payload, _input, _sig = read_compact(jws)
    _, body, signature = jws.split(".")
    protected = b64url(json.dumps({**header, **changes}, separators=(",", ":")).encode())
    return f"{protected}.{body}.{signature}"


@pytest.mark.parametrize("chosen", [INTERNATIONAL, NATIONAL], ids=lambda s: s.name.value)
def test_sign_and_verify_in_each_suite(chosen: Suite) -> None:
    key = chosen.new_signing_key()
    assert key.algorithm is chosen.signature
    jws = sign_compact(key, {"kid": "k1", "typ": "test", "alg": "none"}, b'{"a":1}')
    header, payload = verify_compact(jws, key.public_key())
    assert header["alg"] == chosen.signature.jose  # written from the key, whatever the caller said
    assert payload == b'{"a":1}'
    assert len(read_compact(jws)[3]) == 64  # Ed25519 and SM2 (r || s) signatures are both 64 bytes
    with pytest.raises(JwsError, match="does not verify"):
        verify_compact(jws, chosen.new_signing_key().public_key())
    protected, _body, signature = jws.split(".")
    tampered = ".".join([protected, b64url(b'{"a":2}'), signature])
    with pytest.raises(JwsError, match="does not verify"):
        verify_compact(tampered, key.public_key())


def test_private_keys_round_trip_through_their_sealed_bytes() -> None:
    for key in (Ed25519Private(), Sm2Private()):
        again = load_private(key.algorithm, key.private_bytes())
        assert again.public_key() == key.public_key()
        assert key.public_key().verify(again.sign(b"x"), b"x")


def test_jwk_forms() -> None:
    sm2 = Sm2Private().public_key()
    jwk = public_jwk(sm2, "yangpu-1", tongban_use="attestation")
    assert set(jwk) == {"kty", "crv", "x", "y", "alg", "kid", "use", "tongban_use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("EC", "SM2", "SM2SM3")
    assert len(b64url_decode(jwk["x"])) == 32 and len(b64url_decode(jwk["y"])) == 32
    assert public_key_from_jwk(jwk) == sm2
    ed = Ed25519Private().public_key()
    assert public_jwk(ed, "b")["kty"] == "OKP" and public_key_from_jwk(public_jwk(ed, "b")) == ed


def test_jwk_that_contradicts_itself_or_is_malformed_is_refused() -> None:
    sm2 = public_jwk(Sm2Private().public_key(), "a")
    with pytest.raises(InvalidKey, match="does not match"):
        algorithm_of_jwk({**sm2, "alg": "EdDSA"})
    with pytest.raises(InvalidKey, match="unsupported"):
        public_key_from_jwk({**sm2, "crv": "P-256"})
    with pytest.raises(InvalidKey, match="unsupported"):
        public_key_from_jwk({"kty": "oct", "k": "c2VjcmV0"})
    point_off_curve = {**sm2, "y": b64url(bytes(31) + b"\x01")}
    with pytest.raises(InvalidKey):
        public_key_from_jwk(point_off_curve)
    with pytest.raises(InvalidKey):
        public_key_from_jwk({"kty": "EC", "crv": "SM2", "x": "!!"})
    with pytest.raises(InvalidKey):
        public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url(b"short")})


def test_mixed_keys_each_verify_with_their_own_algorithm() -> None:
    yangpu, bozhou = Sm2Private(), Ed25519Private()
    published = {"yangpu-1": public_jwk(yangpu.public_key(), "yangpu-1"),
                 "bozhou-1": public_jwk(bozhou.public_key(), "bozhou-1")}

    def find(kid: str) -> PublicKey | None:
        return public_key_from_jwk(published[kid]) if kid in published else None

    for kid, key in (("yangpu-1", yangpu), ("bozhou-1", bozhou)):
        jws = sign_compact(key, {"kid": kid}, kid.encode())
        _header, payload, used = verify_with(jws, find)
        assert payload == kid.encode() and used.algorithm is key.algorithm
    with pytest.raises(JwsError, match="unknown key"):
        verify_with(sign_compact(yangpu, {"kid": "taizhou-1"}, b""), find)
    with pytest.raises(JwsError, match="no key id"):
        verify_with(sign_compact(yangpu, {}, b""), find)
    # Bozhou's signature presented under Yangpu's key id: the SM2 key refuses the EdDSA header.
    with pytest.raises(AlgorithmMismatch):
        verify_with(sign_compact(bozhou, {"kid": "yangpu-1"}, b""), find)


@pytest.mark.parametrize("alg", ["EdDSA", "none", "HS256", "ES256", "sm2sm3", None])
def test_an_sm2_signed_jws_under_another_alg_is_refused(alg: str | None) -> None:
    key = Sm2Private()
    jws = _reheader(sign_compact(key, {"kid": "a"}, b"{}"), alg=alg)
    with pytest.raises(AlgorithmMismatch):
        verify_compact(jws, key.public_key())


@pytest.mark.parametrize("alg", ["SM2SM3", "none", "HS256"])
def test_an_ed25519_signed_jws_under_another_alg_is_refused(alg: str) -> None:
    key = Ed25519Private()
    jws = _reheader(sign_compact(key, {"kid": "a"}, b"{}"), alg=alg)
    with pytest.raises(AlgorithmMismatch):
        verify_compact(jws, key.public_key())


def test_hmac_with_the_public_key_as_secret_is_refused() -> None:
    """The classic confusion: sign HS256 with the published key bytes and hope the verifier follows alg."""
    public = Sm2Private().public_key()
    protected = b64url(json.dumps({"alg": "HS256", "kid": "a"}).encode())
    body = b64url(b'{"sub":"attacker"}')
    mac = hmac.new(public.raw, f"{protected}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(AlgorithmMismatch):
        verify_compact(f"{protected}.{body}.{b64url(mac)}", public)


def test_critical_headers_and_malformed_jws_are_refused() -> None:
    key = Sm2Private()
    with pytest.raises(JwsError, match="critical"):
        verify_compact(sign_compact(key, {"crit": ["b64"], "b64": False}, b"x"), key.public_key())
    for bad in ("", "a.b", "a.b.c.d", "!!.e30.AA", f"{b64url(b'[1]')}.e30.AA"):
        with pytest.raises(JwsError):
            verify_compact(bad, key.public_key())


def test_a_wrong_length_sm2_signature_does_not_verify() -> None:
    key = Sm2Private()
    assert not key.public_key().verify(b"\x01" * 63, b"x")
    assert not key.public_key().verify(b"", b"x")


@pytest.mark.parametrize("chosen", [INTERNATIONAL, NATIONAL], ids=lambda s: s.name.value)
def test_suite_cipher_and_key_derivation(chosen: Suite) -> None:
    key = chosen.derive_key(b"\x07" * 32, "tongban:test")
    assert len(key) == chosen.key_size and key != chosen.derive_key(b"\x07" * 32, "tongban:other")
    cipher = chosen.cipher(key)
    sealed = cipher.encrypt(b"secret", b"kid-1")
    assert cipher.decrypt(sealed, b"kid-1") == b"secret"
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed, b"kid-2")
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed[:-1] + bytes([sealed[-1] ^ 1]), b"kid-1")
    with pytest.raises(DecryptionError):
        cipher.decrypt(b"short", b"kid-1")


def test_sm4_gcm_matches_an_independent_construction() -> None:
    """SM4-GCM output is nonce || ciphertext || tag; decrypt a value made with the primitive directly."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, nonce = bytes(range(16)), bytes(12)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(b"ad")
    sealed = nonce + encryptor.update(b"hello") + encryptor.finalize() + encryptor.tag
    assert Aead(AeadName.SM4_GCM, key).decrypt(sealed, b"ad") == b"hello"
    with pytest.raises(ValueError, match="16-byte"):
        Aead(AeadName.SM4_GCM, bytes(32))


def test_suite_names() -> None:
    assert suite("national") is NATIONAL and suite("international") is INTERNATIONAL
    assert NATIONAL.signature is Algorithm.SM2 and NATIONAL.hash == "sm3" and NATIONAL.aead == "SM4GCM"
    with pytest.raises(ValueError, match="unknown crypto suite"):
        suite("gost")
