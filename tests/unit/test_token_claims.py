"""Validly signed tokens with odd claims: the verifier names a caller or refuses (401), never raises anything else.

Only a key the services trust could sign these, so they are made here against the verifier with a
JWKS of our own (``tests/unit/test_token_verifier.py``'s); unsigned shapes are asked of the running
services in ``tests/integration/test_token_shapes.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.auth import Caller, Unauthenticated
from shared.clock import Clock
from tests.unit.test_token_verifier import AUD, ISS, Keys, verifier

odd_times = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([10**20, 253402300800, 2**63, -1, 0, 1e308, True, "1700000000", None, [1], {"t": 1}]),
)
odd_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)
overrides = st.fixed_dictionaries({}, optional={
    "exp": odd_times, "nbf": odd_times, "iat": odd_times, "sub": odd_values, "jti": odd_values,
    "locality": odd_values, "roles": st.one_of(odd_values, st.lists(odd_values, max_size=3)),
    "aud": odd_values, "iss": odd_values,
})


def _outcome(keys: Keys, token: str) -> Caller | Unauthenticated:
    async def verify() -> Caller | Unauthenticated:
        check = verifier(keys, Clock())
        try:
            first = await check.verify(token)
            await check.verify(token)  # the remembered path as well
            return first
        except Unauthenticated as refused:
            return refused

    return asyncio.run(verify())


def _signed(keys: Keys, claims: dict[str, Any]) -> str:
    header = {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    signing_input = ".".join(
        base64.urlsafe_b64encode(json.dumps(part, allow_nan=True).encode()).rstrip(b"=").decode()
        for part in (header, claims)
    )
    signature = keys.private["k1"].sign(signing_input.encode())
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=overrides)
def test_odd_signed_claims_are_refused_or_named_never_raised(changes: dict[str, Any]) -> None:
    keys = Keys()
    keys.add("k1")
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISS, "sub": "320505-aaaa", "aud": [AUD], "iat": now, "nbf": now,
                              "exp": now + 300, "jti": str(uuid.uuid4()), "locality": "320505",
                              "roles": ["window_clerk"]}
    claims.update(changes)
    outcome = _outcome(keys, _signed(keys, {k: v for k, v in claims.items() if v is not None}))
    if isinstance(outcome, Caller):
        assert isinstance(outcome.client_id, str) and isinstance(outcome.locality, str)
        assert all(isinstance(role, str) for role in outcome.roles)


def test_a_far_future_expiry_is_refused() -> None:
    keys = Keys()
    keys.add("k1")
    now = int(time.time())
    token = jwt.encode({"iss": ISS, "sub": "320505-aaaa", "aud": [AUD], "iat": now, "nbf": now, "exp": 10**20,
                        "jti": "j", "locality": "320505", "roles": ["window_clerk"]},
                       keys.private["k1"], algorithm="EdDSA", headers={"kid": "k1"})
    outcome = _outcome(keys, token)
    assert isinstance(outcome, Unauthenticated) and "exp" in outcome.detail


def test_a_signed_payload_nested_thousands_deep_is_refused() -> None:
    keys = Keys()
    keys.add("k1")
    header = base64.urlsafe_b64encode(b'{"alg":"EdDSA","kid":"k1"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(keys.private["k1"].sign(f"{header}.{payload}".encode())).rstrip(b"=")
    outcome = _outcome(keys, f"{header}.{payload}.{signature.decode()}")
    assert isinstance(outcome, Unauthenticated)
