"""Access-token verification (shared/auth.py) against a JWKS, with every refusal's reason."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.authorization import crypto
from shared.auth import JwksCache, TokenVerifier, Unauthenticated

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


def token(keys: Keys, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
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


def verifier(keys: Keys) -> TokenVerifier:
    return TokenVerifier(JwksCache(keys.fetch, min_refresh_interval=0), ISS, AUD, leeway=5)


async def test_a_valid_token_names_the_caller(keys: Keys) -> None:
    caller = await verifier(keys).verify(token(keys))
    assert caller.locality == "320505" and caller.has("window_clerk") and not caller.has("maintainer")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 60}, "token expired"),
        ({"nbf": int(time.time()) + 600}, "token not yet valid"),
        ({"aud": ["tongban-catalogue"]}, "not meant for this service"),
        ({"iss": "someone-else"}, "unknown issuer"),
        ({"jti": None}, "lacks the claim jti"),
        ({"locality": None}, "lacks locality or roles"),
    ],
)
async def test_bad_claims_are_refused(keys: Keys, overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        await verifier(keys).verify(token(keys, **overrides))


async def test_a_forged_signature_is_refused(keys: Keys) -> None:
    good = token(keys)
    forger = Keys()
    forger.add("k1")  # same key id, another key
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        await verifier(keys).verify(token(forger))
    head, body, _sig = good.split(".")
    with pytest.raises(Unauthenticated):
        await verifier(keys).verify(f"{head}.{body}.AAAA")


async def test_unknown_key_refreshes_the_jwks_once_then_refuses(keys: Keys) -> None:
    v = verifier(keys)
    await v.verify(token(keys))
    keys.add("k2")  # rotated after the cache was filled
    assert (await v.verify(token(keys, kid="k2"))).client_id == "320505-aaaa"
    other = Keys()
    other.add("k9")
    fetches = keys.fetches
    with pytest.raises(Unauthenticated, match="unknown key"):
        await v.verify(token(other, kid="k9"))
    assert keys.fetches == fetches + 1


async def test_keys_that_do_not_sign_tokens_are_refused(keys: Keys) -> None:
    keys.add("locality-key", use="locality")
    with pytest.raises(Unauthenticated, match="does not sign tokens"):
        await verifier(keys).verify(token(keys, kid="locality-key"))


async def test_a_retired_key_verifies_only_what_it_signed_before(keys: Keys) -> None:
    retired_at = int(time.time()) - 10
    keys.add("old", retired_at=retired_at)
    with pytest.raises(Unauthenticated, match="retired key"):
        await verifier(keys).verify(token(keys, kid="old"))
    before = token(keys, kid="old", iat=retired_at - 5, nbf=retired_at - 5)
    assert (await verifier(keys).verify(before)).locality == "320505"


async def test_revoked_clients_are_refused(keys: Keys) -> None:
    v = verifier(keys)
    await v.verify(token(keys))
    v.jwks.revoke_client("320505-aaaa")  # as a ClientRevoked event does
    with pytest.raises(Unauthenticated, match="client revoked"):
        await v.verify(token(keys))
    fresh = Keys()
    fresh.add("k1")
    fresh.document["tongban_revoked_clients"] = ["320505-aaaa"]  # as the published list does
    with pytest.raises(Unauthenticated, match="client revoked"):
        await verifier(fresh).verify(token(fresh))


@pytest.mark.parametrize("bad", ["", "not.a.jwt", "a.b", "eyJhbGciOiJub25lIn0.e30."])
async def test_malformed_tokens_are_refused(keys: Keys, bad: str) -> None:
    with pytest.raises(Unauthenticated):
        await verifier(keys).verify(bad)
