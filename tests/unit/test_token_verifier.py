"""Access-token verification (shared/auth.py) against a JWKS, with every refusal's reason."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.authorization import crypto
from shared.auth import JwksCache, TokenVerifier, Unauthenticated
from shared.clock import Clock, FrozenClock

ISS, AUD = "tongban-authorization", "tongban-routing"


class Keys:
    """A fake JWKS source (the verifier's only I/O), with fetch counting."""

    def __init__(self) -> None:
        self.private: dict[str, Ed25519PrivateKey] = {}
        self.document: dict[str, Any] = {"keys": [], "tongban_revoked_clients": []}
        self.fetches = 0

    def add(self, kid: str, use: str = "token", retired_at: int | None = None) -> None:
        raw, x = crypto.new_keypair()
        self.private[kid] = Ed25519PrivateKey.from_private_bytes(raw)
        self.document["keys"].append(crypto.public_jwk(kid, x, tongban_use=use, tongban_retired_at=retired_at))

    async def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        return self.document


def token(keys: Keys, clock: Clock, kid: str = "k1", **overrides: Any) -> str:
    """A token signed now (on ``clock``), with claims replaced by ``overrides``."""
    now = int(clock.time())
    claims = {"iss": ISS, "sub": "320505-aaaa", "aud": [AUD], "iat": now, "nbf": now, "exp": now + 300,
              "jti": str(uuid.uuid4()), "locality": "320505", "roles": ["window_clerk"]}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, keys.private[kid], algorithm="EdDSA", headers={"kid": kid})


@pytest.fixture
def keys() -> Keys:
    k = Keys()
    k.add("k1")
    return k


def verifier(keys: Keys, clock: Clock) -> TokenVerifier:
    return TokenVerifier(JwksCache(keys.fetch, min_refresh_interval=0), ISS, AUD, leeway=5, clock=clock)


async def test_a_valid_token_names_the_caller(keys: Keys, clock: Clock) -> None:
    caller = await verifier(keys, clock).verify(token(keys, clock))
    assert caller.locality == "320505" and caller.has("window_clerk") and not caller.has("maintainer")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": -60}, "token expired"),
        ({"nbf": 600}, "token not yet valid"),
        ({"iat": 600}, "token not yet valid"),
        ({"exp": "soon"}, "must be a time in seconds"),
        ({"aud": ["tongban-catalogue"]}, "not meant for this service"),
        ({"iss": "someone-else"}, "unknown issuer"),
        ({"jti": None}, "lacks the claim jti"),
        ({"locality": None}, "lacks locality or roles"),
    ],
)
async def test_bad_claims_are_refused(keys: Keys, clock: Clock, overrides: dict[str, Any], reason: str) -> None:
    """Times in ``overrides`` are seconds from now, resolved when the test runs (never at collection)."""
    now = int(clock.time())
    claims = {k: now + v if k in ("exp", "nbf", "iat") and isinstance(v, int) else v for k, v in overrides.items()}
    with pytest.raises(Unauthenticated, match=reason):
        await verifier(keys, clock).verify(token(keys, clock, **claims))


async def test_a_remembered_token_expires_on_the_verifiers_clock(keys: Keys, clock: Clock) -> None:
    """The cache of verified tokens keeps the signature's outcome, never the time check."""
    v = verifier(keys, clock)
    issued = token(keys, clock)
    assert (await v.verify(issued)).locality == "320505"
    clock.advance(300 + 5 - 1)  # exp + leeway is one second away
    assert (await v.verify(issued)).locality == "320505"
    clock.advance(1)
    with pytest.raises(Unauthenticated, match="token expired"):
        await v.verify(issued)


async def test_a_token_from_a_clock_ahead_is_refused_until_its_time(keys: Keys, clock: Clock) -> None:
    ahead = FrozenClock(clock.time() + 60)
    issued = token(keys, ahead)
    v = verifier(keys, clock)
    with pytest.raises(Unauthenticated, match="not yet valid"):
        await v.verify(issued)
    clock.advance(60)
    assert (await v.verify(issued)).locality == "320505"


async def test_a_forged_signature_is_refused(keys: Keys, clock: Clock) -> None:
    good = token(keys, clock)
    forger = Keys()
    forger.add("k1")  # same key id, another key
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        await verifier(keys, clock).verify(token(forger, clock))
    head, body, _sig = good.split(".")
    with pytest.raises(Unauthenticated):
        await verifier(keys, clock).verify(f"{head}.{body}.AAAA")


async def test_unknown_key_refreshes_the_jwks_once_then_refuses(keys: Keys, clock: Clock) -> None:
    v = verifier(keys, clock)
    await v.verify(token(keys, clock))
    keys.add("k2")  # rotated after the cache was filled
    assert (await v.verify(token(keys, clock, kid="k2"))).client_id == "320505-aaaa"
    other = Keys()
    other.add("k9")
    fetches = keys.fetches
    with pytest.raises(Unauthenticated, match="unknown key"):
        await v.verify(token(other, clock, kid="k9"))
    assert keys.fetches == fetches + 1


async def test_keys_that_do_not_sign_tokens_are_refused(keys: Keys, clock: Clock) -> None:
    keys.add("locality-key", use="locality")
    with pytest.raises(Unauthenticated, match="does not sign tokens"):
        await verifier(keys, clock).verify(token(keys, clock, kid="locality-key"))


async def test_a_retired_key_verifies_only_what_it_signed_before(keys: Keys, clock: Clock) -> None:
    retired_at = int(clock.time()) - 10
    keys.add("old", retired_at=retired_at)
    with pytest.raises(Unauthenticated, match="retired key"):
        await verifier(keys, clock).verify(token(keys, clock, kid="old"))
    before = token(keys, clock, kid="old", iat=retired_at - 5, nbf=retired_at - 5)
    assert (await verifier(keys, clock).verify(before)).locality == "320505"


async def test_revoked_clients_are_refused(keys: Keys, clock: Clock) -> None:
    v = verifier(keys, clock)
    await v.verify(token(keys, clock))
    v.jwks.revoke_client("320505-aaaa")  # as a ClientRevoked event does
    with pytest.raises(Unauthenticated, match="client revoked"):
        await v.verify(token(keys, clock))
    fresh = Keys()
    fresh.add("k1")
    fresh.document["tongban_revoked_clients"] = ["320505-aaaa"]  # as the published list does
    with pytest.raises(Unauthenticated, match="client revoked"):
        await verifier(fresh, clock).verify(token(fresh, clock))


@pytest.mark.parametrize("bad", ["", "not.a.jwt", "a.b", "eyJhbGciOiJub25lIn0.e30."])
async def test_malformed_tokens_are_refused(keys: Keys, clock: Clock, bad: str) -> None:
    with pytest.raises(Unauthenticated):
        await verifier(keys, clock).verify(bad)
