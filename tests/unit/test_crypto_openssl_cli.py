"""Interoperability with the OpenSSL command line (Debian's OpenSSL 3): SM2 with SM3 both ways, and SM3.

OpenSSL 3.0's ``pkeyutl`` uses an empty SM2 distinguishing id unless told otherwise, so every call
passes ``-pkeyopt distid:1234567812345678``, the standard's default that Tongban uses (without it
the same signature is refused: shown below). The tests fail, never skip, when ``openssl`` is missing.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.crypto import (
    Sm2Private,
    Sm2Public,
    hexdigest,
    read_compact,
    sign_compact,
    sm2_signature_from_der,
    sm2_signature_to_der,
    verify_compact,
)

DISTID = ["-pkeyopt", "distid:1234567812345678"]


def _openssl(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    binary = shutil.which("openssl")
    assert binary, "the openssl command line is needed (apt-get install openssl)"
    return subprocess.run([binary, *map(str, args)], capture_output=True, check=check, timeout=30)


def _pem(kind: str, der: bytes) -> bytes:
    return f"-----BEGIN {kind}-----\n".encode() + base64.encodebytes(der) + f"-----END {kind}-----\n".encode()


def _public_pem(key: Sm2Private, path: Path) -> Path:
    public = key.public_key()
    assert isinstance(public, Sm2Public)
    path.write_bytes(_pem("PUBLIC KEY", public.spki_der()))
    return path


def test_openssl_is_3_with_sm2() -> None:
    version = _openssl("version").stdout.decode()
    assert version.startswith("OpenSSL 3."), version


def test_openssl_verifies_a_tongban_attestation_signature(tmp_path: Path) -> None:
    key = Sm2Private()
    jws = sign_compact(key, {"kid": "yangpu-1", "typ": "tongban-attestation"},
                       json.dumps({"case": "c-1", "sha256": "ab" * 32}).encode())
    header, _payload, signing_input, signature = read_compact(jws)
    assert header["alg"] == "SM2SM3"
    (tmp_path / "input").write_bytes(signing_input)
    (tmp_path / "sig").write_bytes(sm2_signature_to_der(signature))
    pub = _public_pem(key, tmp_path / "pub.pem")
    verify = ["pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", pub,
              "-in", tmp_path / "input", "-sigfile", tmp_path / "sig"]
    done = _openssl(*verify, *DISTID, check=False)
    assert done.returncode == 0 and b"Signature Verified Successfully" in done.stdout, done
    (tmp_path / "input").write_bytes(signing_input + b"x")
    assert _openssl(*verify, *DISTID, check=False).returncode != 0
    (tmp_path / "input").write_bytes(signing_input)
    assert _openssl(*verify, check=False).returncode != 0  # OpenSSL 3.0's default (empty) id differs


def test_tongban_verifies_signatures_of_an_openssl_generated_key(tmp_path: Path) -> None:
    _openssl("genpkey", "-algorithm", "SM2", "-out", tmp_path / "key.pem")
    spki = _openssl("pkey", "-in", tmp_path / "key.pem", "-pubout", "-outform", "DER").stdout
    public = Sm2Public(spki[-65:])
    assert public.spki_der() == spki
    message = b'{"agreement":"a-1","act":"sign"}'
    (tmp_path / "msg").write_bytes(message)
    _openssl("pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", tmp_path / "key.pem",
             "-in", tmp_path / "msg", "-out", tmp_path / "sig", *DISTID)
    raw = sm2_signature_from_der((tmp_path / "sig").read_bytes())
    assert public.verify(raw, message)
    assert not public.verify(raw, message + b" ")


def test_a_jws_signed_by_openssl_verifies_in_tongban(tmp_path: Path) -> None:
    """Build a JWS whose signature OpenSSL makes with Tongban's key (written out as a PEM file)."""
    key = Sm2Private()
    (tmp_path / "key.pem").write_bytes(_pem("EC PRIVATE KEY", key.ec_private_key_der()))
    header = base64.urlsafe_b64encode(b'{"alg":"SM2SM3","kid":"k"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(b'{"sub":"x"}').rstrip(b"=")
    (tmp_path / "input").write_bytes(header + b"." + body)
    _openssl("pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", tmp_path / "key.pem",
             "-in", tmp_path / "input", "-out", tmp_path / "sig", *DISTID)
    signature = sm2_signature_from_der((tmp_path / "sig").read_bytes())
    jws = (header + b"." + body).decode() + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    _header, payload = verify_compact(jws, key.public_key())
    assert payload == b'{"sub":"x"}'


@pytest.mark.parametrize("data", [b"abc", b"abcd" * 16, "跨省通办".encode()])
def test_sm3_agrees_with_openssl_dgst(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "data").write_bytes(data)
    out = _openssl("dgst", "-sm3", "-r", tmp_path / "data").stdout.decode()
    assert out.split()[0] == hexdigest("sm3", data)
