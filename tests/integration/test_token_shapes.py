"""No token, however malformed, reaches a 500: Hypothesis over token shapes, at the four running services.

Each generated token is presented to every service of a running embedded system (``tongban up``);
each must answer 401 problem+json. The shapes: JOSE headers with odd members (``crit`` as a list, a
string or ``"b64"``, ``kid`` of every JSON type, ``b64: false``, unknown algorithms), headers that are
not objects or not UTF-8 or nested thousands deep, payloads with huge, negative, fractional and
non-numeric times, signatures that are empty, short or not base64, and plain base64 junk with any
number of dots. Tokens validly signed with odd claims are the verifier's unit test
(``tests/unit/test_token_claims.py``): only the issuer's key could make them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.support.embedded import Embedded, embedded_system

SERVICES = {"catalogue": "/v1/areas", "routing": "/v1/cases", "authorization": "/v1/keys",
            "delivery": "/v1/delivery-targets"}
"""A read of each service that needs a token."""


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    with embedded_system(tmp_path_factory.mktemp("token-shapes")) as running:
        yield running


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


odd_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 2**63, 2**64, 10**19, 253402300800, 1e308]),
)
json_scalars = st.one_of(st.none(), st.booleans(), odd_numbers, st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    """A JSON document nested thousands of levels deep (Python's parser recurses)."""
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    depth = draw(st.integers(min_value=1000, max_value=1300))
    return (opener * depth + "1" + closer * depth).encode()


headers = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.one_of(st.sampled_from(["EdDSA", "none", "HS256", "RS256", "ES256", "", "EDDSA"]), json_values),
        "kid": st.one_of(json_values, st.text(max_size=60), st.just("x" * 3000)),
        "crit": st.one_of(st.just("b64"), st.just(["b64"]), st.lists(st.text(max_size=10), max_size=3),
                          json_values),
        "b64": st.one_of(st.booleans(), json_values),
        "typ": json_values,
        "jku": st.just("http://127.0.0.1:1/jwks.json"),
        "x5c": json_values,
        "jwk": json_values,
    },
)
claims = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.one_of(st.just("tongban-authorization"), json_values),
        "sub": json_values, "aud": st.one_of(st.just(["tongban-routing"]), json_values),
        "exp": odd_numbers, "nbf": odd_numbers, "iat": odd_numbers, "jti": json_values,
        "locality": json_values, "roles": st.one_of(st.just(["maintainer"]), json_values),
    },
)
segment_bytes = st.one_of(
    headers.map(_json), claims.map(_json), json_values.map(_json), deep(), st.binary(max_size=64),
    st.just(b""), st.just(b"\xff\xfe{}"),
)
encoded_segment = st.one_of(
    segment_bytes.map(b64),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.~!*%", max_size=80),
)
signatures = st.one_of(st.just(""), st.binary(min_size=0, max_size=80).map(b64), st.text(max_size=20).map(
    lambda t: t.encode("ascii", "replace").decode()))
structured = st.builds(lambda h, p, s: f"{h}.{p}.{s}", segment_bytes.map(b64), segment_bytes.map(b64), signatures)
junk = st.lists(encoded_segment, min_size=1, max_size=6).map(".".join)
tokens = st.one_of(structured, junk, st.builds(lambda t, tail: t + tail, structured, st.sampled_from(
    ["", ".", "..", "=", " ", "\t", ".x" * 3])))


def _printable(token: str) -> str:
    """What an HTTP header can carry (visible ASCII, spaces and tabs inside)."""
    cleaned = "".join(c for c in token if " " <= c <= "~" or c == "\t").strip()
    return cleaned or "x"


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(token=tokens)
def test_no_token_shape_reaches_a_500(system: Embedded, token: str) -> None:
    value = _printable(token)
    assume(len(value) < 15_000)  # longer headers are answered 431 before any verifier (test_request_limits.py)
    with httpx.Client(timeout=10) as http:
        for service, path in SERVICES.items():
            answer = http.get(system.base[service] + path, headers={"Authorization": "Bearer " + value})
            assert answer.status_code == 401, f"{service}: {answer.status_code} {answer.text[:300]} for {value[:200]!r}"
            assert answer.headers["content-type"].startswith("application/problem+json"), service
            assert answer.json()["status"] == 401


@pytest.mark.parametrize("header", [
    {"alg": "EdDSA", "kid": "k", "crit": ["exp"]},
    {"alg": "EdDSA", "kid": 7},
    {"alg": "EdDSA", "kid": ["k"]},
    {"alg": "EdDSA", "kid": "k", "crit": "b64", "b64": False},
    {"alg": "EdDSA", "kid": "k", "crit": ["b64"], "b64": False},
])
def test_the_reported_headers_answer_401(system: Embedded, header: dict[str, Any]) -> None:
    token = f"{b64(_json(header))}.{b64(_json({'sub': 'x'}))}.{b64(b'sig')}"
    with httpx.Client(timeout=10) as http:
        for service, path in SERVICES.items():
            answer = http.get(system.base[service] + path, headers={"Authorization": "Bearer " + token})
            assert answer.status_code == 401, f"{service}: {answer.status_code} {answer.text[:300]}"
            assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_header_nested_thousands_deep_answers_401(system: Embedded) -> None:
    token = f"{b64(b'[' * 3000 + b']' * 3000)}.{b64(b'{}')}.{b64(b'sig')}"
    with httpx.Client(timeout=10) as http:
        for service, path in SERVICES.items():
            answer = http.get(system.base[service] + path, headers={"Authorization": "Bearer " + token})
            assert answer.status_code == 401, f"{service}: {answer.status_code} {answer.text[:300]}"


def test_the_embedded_system_logged_no_unhandled_error(system: Embedded) -> None:
    """Runs last in this module: nothing above made a service log an unhandled error."""
    logged = system.log_path.read_text(errors="replace")
    assert "unhandled error" not in logged, [line for line in logged.splitlines() if "unhandled" in line][:5]

