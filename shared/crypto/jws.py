"""Compact JWS (RFC 7515) signed and verified with keys that know their algorithm.

The signer writes ``alg`` from its key. The verifier is handed a key (or looks one up by ``kid``)
and checks that the header's ``alg`` is exactly that key's algorithm before verifying: a header
naming EdDSA over an SM2 key, or SM2SM3 over an Ed25519 key, or ``none``, is refused, so the
algorithm is never chosen by the message (no algorithm confusion).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from shared.bounded_json import loads_json
from shared.crypto.encoding import b64url, b64url_decode
from shared.crypto.keys import PrivateKey, PublicKey


class JwsError(ValueError):
    """A JWS that is malformed, names the wrong algorithm, or whose signature does not verify."""


class BadSignature(JwsError):
    """A well-formed JWS whose signature does not verify under the key."""


class AlgorithmMismatch(JwsError):
    """The header's ``alg`` is not the algorithm of the key that must verify it."""


def sign_compact(key: PrivateKey, header: dict[str, Any], payload: bytes) -> str:
    """A compact JWS over ``payload``; ``alg`` is the key's, whatever ``header`` says."""
    protected = b64url(json.dumps({**header, "alg": key.algorithm.jose}, separators=(",", ":")).encode("utf-8"))
    body = b64url(payload)
    signature = key.sign(f"{protected}.{body}".encode("ascii"))
    return f"{protected}.{body}.{b64url(signature)}"


def read_compact(jws: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """Split a compact JWS without verifying: header, payload, signing input, signature."""
    if not isinstance(jws, str):
        raise JwsError("a compact JWS is a string")
    parts = jws.split(".")
    if len(parts) != 3:
        raise JwsError("a compact JWS has three parts")
    try:
        header = loads_json(b64url_decode(parts[0]))  # bounded depth: no RecursionError from a header
        payload, signature = b64url_decode(parts[1]), b64url_decode(parts[2])
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise JwsError("the JWS is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise JwsError("the JWS header is not a JSON object")
    return header, payload, signing_input, signature


def check_algorithm(header: dict[str, Any], key: PublicKey) -> None:
    """Refuse a header whose ``alg`` is not the key's algorithm (or that has critical extensions)."""
    if header.get("alg") != key.algorithm.jose:
        raise AlgorithmMismatch(
            f"the JWS names alg {header.get('alg')!r} but its key is {key.algorithm.value} ({key.algorithm.jose})")
    if "crit" in header:
        raise JwsError("critical header extensions are not supported")


def verify_compact(jws: str, key: PublicKey) -> tuple[dict[str, Any], bytes]:
    """Header and payload of a JWS that ``key`` signed; JwsError otherwise."""
    header, payload, signing_input, signature = read_compact(jws)
    check_algorithm(header, key)
    if not key.verify(signature, signing_input):
        raise BadSignature("the JWS signature does not verify")
    return header, payload


def verify_with(jws: str, find_key: Callable[[str], PublicKey | None]) -> tuple[dict[str, Any], bytes, PublicKey]:
    """Verify with the key ``find_key`` returns for the header's ``kid``; JwsError when there is none."""
    header, _payload, _input, _signature = read_compact(jws)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise JwsError("the JWS names no key id")
    key = find_key(kid)
    if key is None:
        raise JwsError(f"the JWS is signed by an unknown key {kid}")
    header, payload = verify_compact(jws, key)
    return header, payload, key


def payload_json(payload: bytes) -> dict[str, Any]:
    """The payload as a JSON object; JwsError when it is not one."""
    try:
        value = loads_json(payload)
    except (ValueError, UnicodeError) as exc:
        raise JwsError("the JWS payload is not JSON") from exc
    if not isinstance(value, dict):
        raise JwsError("the JWS payload is not a JSON object")
    return value
