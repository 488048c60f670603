"""The national suite in the pieces every service shares: SM2 tokens in TokenVerifier, SM3 audit links."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import pytest
import rfc8785

from services.authorization.domain import GENESIS, AuditEntry, KeyStatus, SigningKey, audit_hash, first_broken_link
from shared.auth import JwksCache, TokenVerifier, Unauthenticated
from shared.clock import Clock
from shared.crypto import (
    Algorithm,
    Ed25519Private,
    HashName,
    PrivateKey,
    Sm2Private,
    b64url,
    b64url_decode,
    hexdigest,
    public_jwk,
    sign_compact,
)

ISS, AUD = "tongban-authorization", "tongban-routing"


class Jwks:
    """The verifier's one input: a JWKS document with an SM2 and an Ed25519 issuer key."""

    def __init__(self) -> None:
        self.private: dict[str, PrivateKey] = {"sm2": Sm2Private(), "ed": Ed25519Private()}
        self.document: dict[str, Any] = {"keys": [public_jwk(k.public_key(), kid, tongban_use="token")
                                                  for kid, k in self.private.items()]}

    async def fetch(self) -> dict[str, Any]:
        return self.document


def _token(jwks: Jwks, kid: str, clock: Clock, **header: Any) -> str:
    now = int(clock.time())
    claims = {"iss": ISS, "sub": "320505-aaaa", "aud": [AUD], "iat": now, "nbf": now, "exp": now + 300,
              "jti": str(uuid.uuid4()), "locality": "320505", "roles": ["window_clerk"]}
    return sign_compact(jwks.private[kid], {"kid": kid, "typ": "at+jwt", **header}, json.dumps(claims).encode())


def _realg(token: str, alg: str) -> str:
    head = json.loads(b64url_decode(token.split(".")[0]))
    return ".".join([b64url(json.dumps({**head, "alg": alg}).encode()), *token.split(".")[1:]])


@pytest.fixture
def jwks() -> Jwks:
    return Jwks()


def _verifier(jwks: Jwks, clock: Clock) -> TokenVerifier:
    return TokenVerifier(JwksCache(jwks.fetch, min_refresh_interval=0), ISS, AUD, leeway=5, clock=clock)


async def test_sm2_and_ed25519_tokens_both_verify(jwks: Jwks, clock: Clock) -> None:
    verifier = _verifier(jwks, clock)
    for kid in ("sm2", "ed"):
        token = _token(jwks, kid, clock)
        assert json.loads(b64url_decode(token.split(".")[0]))["alg"] == ("SM2SM3" if kid == "sm2" else "EdDSA")
        assert (await verifier.verify(token)).locality == "320505"
        assert (await verifier.verify(token)).locality == "320505"  # the remembered path too


@pytest.mark.parametrize(("kid", "alg", "reason"), [
    ("sm2", "EdDSA", "tokens must be signed with SM2SM3"),
    ("sm2", "ES256", "tokens must be signed with SM2SM3"),
    ("sm2", "none", "tokens must be signed with SM2SM3"),
    ("ed", "SM2SM3", "tokens must be signed with EdDSA"),
])
async def test_a_header_alg_that_is_not_the_key_s_is_refused(jwks: Jwks, clock: Clock, kid: str, alg: str,
                                                              reason: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await _verifier(jwks, clock).verify(_realg(_token(jwks, kid, clock), alg))
    assert refused.value.detail == reason


async def test_an_sm2_token_signed_by_another_key_or_altered_is_refused(jwks: Jwks, clock: Clock) -> None:
    verifier = _verifier(jwks, clock)
    stranger = Sm2Private()
    forged = sign_compact(stranger, {"kid": "sm2"}, b'{"sub":"x"}')
    with pytest.raises(Unauthenticated, match="does not verify"):
        await verifier.verify(forged)
    head, _body, signature = _token(jwks, "sm2", clock).split(".")
    with pytest.raises(Unauthenticated, match="does not verify"):
        await verifier.verify(".".join([head, b64url(b'{"sub":"320505-root"}'), signature]))


async def test_a_jwk_whose_alg_contradicts_its_curve_is_refused(jwks: Jwks, clock: Clock) -> None:
    jwks.document["keys"][0]["alg"] = "EdDSA"  # an SM2 key published as if it were Ed25519
    with pytest.raises(Unauthenticated, match="unusable key"):
        await _verifier(jwks, clock).verify(_token(jwks, "sm2", clock))


def _chain(algs: list[HashName]) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for seq, alg in enumerate(algs, start=1):
        entry = AuditEntry(seq, f"2026-01-01T00:00:{seq:02d}", "320505", "c", "token.issued", f"s{seq}", "ok",
                           {"n": seq}, prev, hash_alg=alg)
        entry = replace(entry, hash=audit_hash(entry))
        entries.append(entry)
        prev = entry.hash
    return entries


def test_an_audit_chain_that_switches_from_sha256_to_sm3_holds_and_breaks_where_altered() -> None:
    entries = _chain([HashName.SHA256] * 3 + [HashName.SM3] * 3)
    assert first_broken_link(entries) is None
    assert entries[0].hash != entries[3].hash and len(entries[3].hash) == 64
    relabelled = list(entries)
    relabelled[4] = replace(entries[4], hash_alg=HashName.SHA256)  # passing an SM3 link off as SHA-256
    assert first_broken_link(relabelled) == (5, "its content does not match its hash (the row was altered)")
    altered = list(entries)
    altered[5] = replace(entries[5], outcome="denied")
    assert first_broken_link(altered) == (6, "its content does not match its hash (the row was altered)")


def test_a_sha256_entry_hashes_as_before_the_suites() -> None:
    entry = _chain([HashName.SHA256])[0]
    body = {"seq": 1, "at": entry.at, "locality": "320505", "actor": "c", "action": "token.issued",
            "subject": "s1", "outcome": "ok", "detail": {"n": 1}, "prev_hash": GENESIS}
    assert entry.hash == hexdigest("sha256", rfc8785.dumps(body))


def test_a_signing_key_verifies_with_its_own_algorithm() -> None:
    private = Sm2Private()
    members = private.public_key().jwk()
    key = SigningKey("k", "310110", members["x"], KeyStatus.ACTIVE, 0, algorithm=Algorithm.SM2, y=members["y"])
    assert key.public_key() == private.public_key()
    assert key.jwk_members()["crv"] == "SM2"
    assert key.public_key().verify(private.sign(b"m"), b"m")
