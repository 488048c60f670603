"""Unbounded input, at the running embedded system: header and body caps, JSON depth, the carrier webhook.

Every application (the four services and the dashboard) answers 431 past the header cap and 413
past the body cap as problem+json before it reads the body (asked over a raw socket that sends only
the request head, or streams chunks until the server answers); a JSON body nested past the bound
answers 422; the carrier webhook refuses a timestamp of non-ASCII digits and a signed batch of
100,000 nested brackets with 4xx, never 500; JSON answers carry ``no-store`` and ``nosniff``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.embedded import APPLICATIONS, Embedded, embedded_system

SUZHOU = "320505"
POSTS = {"catalogue": "/v1/items", "routing": "/v1/cases", "authorization": "/v1/clients",
         "delivery": "/v1/carrier/events", "dashboard": "/api/session"}
"""A route of each application that takes a JSON body (the dashboard's is its login)."""
MAX_BODY, MAX_HEADERS = 2_000_000, 16_384
"""The defaults of TONGBAN_MAX_BODY_BYTES and TONGBAN_MAX_HEADER_BYTES."""


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    with embedded_system(tmp_path_factory.mktemp("limits")) as running:
        yield running


def _raw(url: str, head: str, chunks: Iterator[bytes] = iter(()), timeout: float = 20) -> tuple[int, dict[str, str],
                                                                                                  bytes]:
    """Send a request head (and then body chunks while the server reads) over a socket; the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        answer = b""
        sock.setblocking(False)
        deadline = time.monotonic() + timeout
        for chunk in chunks:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            except ConnectionError:
                break
            if answer or time.monotonic() > deadline:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, ConnectionError):
                break
        sock.setblocking(True)
        sock.settimeout(max(deadline - time.monotonic(), 1))
        while b"\r\n\r\n" not in answer or len(answer) < _expected_length(answer):
            try:
                more = sock.recv(65536)
            except (ConnectionError, TimeoutError):
                break
            if not more:
                break
            answer += more
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0] else 0
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    return status, headers, body


def _expected_length(answer: bytes) -> int:
    head, sep, _ = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + len(sep) + int(line.split(b":", 1)[1])
    return 0


def _problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict[str, object]:
    assert status == expected, (status, body[:300])
    assert headers["content-type"].startswith("application/problem+json"), headers
    document: dict[str, object] = json.loads(body)
    assert document["status"] == expected
    return document


def test_headers_past_the_cap_answer_431_everywhere(system: Embedded) -> None:
    for name in APPLICATIONS:
        host = urlsplit(system.base[name]).netloc
        big = "Bearer " + "a" * (MAX_HEADERS + 1)
        status, headers, body = _raw(system.base[name], f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n"
                                                        f"Authorization: {big}\r\n\r\n")
        _problem(status, headers, body, 431)
        with httpx.Client(timeout=30) as http:  # the 4 MB header of the report
            answer = http.get(system.base[name] + "/healthz", headers={"Authorization": "Bearer " + "a" * 4_000_000})
            assert answer.status_code == 431, (name, answer.status_code)


def test_a_declared_body_past_the_cap_answers_413_before_it_is_sent(system: Embedded) -> None:
    for name, path in POSTS.items():
        host = urlsplit(system.base[name]).netloc
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: 20000000\r\n\r\n")
        started = time.monotonic()
        status, headers, body = _raw(system.base[name], head)  # not one byte of the 20 MB is sent
        document = _problem(status, headers, body, 413)
        assert document["type"] == "https://tongban.example/problems/too-large"
        assert time.monotonic() - started < 10, "answered without waiting for the body"


def _streamed(system: Embedded, name: str, path: str, extra: str = "") -> tuple[int, dict[str, str], bytes]:
    host = urlsplit(system.base[name]).netloc
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{extra}"
            f"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"[" + b"1," * 32_000 + b"1]"
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return _raw(system.base[name], head, (chunk for _ in range(400)))  # 25 MB at most; ~2 MB are read


def test_a_streamed_body_past_the_cap_answers_413(system: Embedded) -> None:
    for name, path in POSTS.items():
        if name == "delivery":
            continue  # the webhook checks its caller first: test_the_carrier_webhook_streams_against_its_cap
        _problem(*_streamed(system, name, path), 413)


def test_a_body_nested_past_the_bound_answers_422_everywhere(system: Embedded) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with httpx.Client(timeout=30) as http:
        for name, path in POSTS.items():
            if name == "delivery":
                continue  # the webhook reads its own body: test_the_carrier_webhook_never_answers_500
            answer = http.post(system.base[name] + path, content=deep, headers={"Content-Type": "application/json"})
            assert answer.status_code == 422, (name, answer.status_code, answer.text[:300])
            assert answer.json()["type"] == "https://tongban.example/problems/json-too-deep"
            shallow = http.post(system.base[name] + path, content=b"[" * 10 + b"]" * 10,
                                headers={"Content-Type": "application/json"})
            assert shallow.status_code in (401, 422) and shallow.json()["type"] != \
                "https://tongban.example/problems/json-too-deep", (name, shallow.text[:300])


def test_json_inside_a_field_is_bounded_too(system: Embedded) -> None:
    """A JWS whose header or payload nests thousands deep (inside a shallow body) is refused, not a 500."""
    deep = base64.urlsafe_b64encode(b"[" * 50_000 + b"]" * 50_000).rstrip(b"=").decode()
    plain = base64.urlsafe_b64encode(b'{"alg":"EdDSA","kid":"x"}').rstrip(b"=").decode()
    with httpx.Client(timeout=30) as http:
        auth = {"Authorization": "Bearer " + system.token(SUZHOU)}
        for jws in (f"{deep}.{plain}.c2ln", f"{plain}.{deep}.c2ln"):
            answer = http.post(system.base["authorization"] + "/v1/attestations/verify", json={"jws": jws},
                               headers=auth)
            assert answer.status_code < 500, answer.text[:300]
            assert answer.status_code == 422 or answer.json()["valid"] is False, answer.text[:300]


def _carrier(system: Embedded) -> tuple[dict[str, str], bytes]:
    """A carrier's token header (a client registered by Suzhou's maintainer) and the carrier's HMAC secret."""
    with httpx.Client(timeout=10) as http:
        made = http.post(system.base["authorization"] + "/v1/clients",
                         headers={"Authorization": "Bearer " + system.token(SUZHOU)},
                         json={"locality": SUZHOU, "name": "EMS 苏州", "roles": ["carrier"]})
        assert made.status_code == 201, made.text
        token = http.post(system.base["authorization"] + "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": made.json()["client_id"],
            "client_secret": made.json()["client_secret"]})
        assert token.status_code == 200, token.text
    secret = bytes.fromhex(system.cli("carrier", "secret", "ems").strip())
    return {"Authorization": "Bearer " + token.json()["access_token"]}, secret


def _signed(secret: bytes, body: bytes, timestamp: str) -> dict[str, str]:
    signature = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Tongban-Timestamp": timestamp, "X-Tongban-Signature": "sha256=" + signature,
            "Content-Type": "application/json"}


def test_the_carrier_webhook_never_answers_500(system: Embedded) -> None:
    auth, secret = _carrier(system)
    url = system.base["delivery"] + "/v1/carrier/events"
    with httpx.Client(timeout=30) as http:
        event = json.dumps({"events": [{"waybill_number": "EA000000000CN", "code": "EMA",
                                        "occurred_at": "2026-01-01T00:00:00+08:00"}]}).encode()
        good = http.post(url, content=event, headers={**auth, **_signed(secret, event, str(int(time.time())))})
        assert good.status_code in (200, 207), good.text  # the secret and token are right
        # The byte 0xB2 is "²" in the Latin-1 that HTTP header values are read as.
        signed = {k: v for k, v in _signed(secret, event, "2").items() if k != "X-Tongban-Timestamp"}
        superscript = http.post(url, content=event, headers=[
            *auth.items(), *signed.items(), ("X-Tongban-Timestamp", "²".encode("latin-1"))])
        assert superscript.status_code == 401, superscript.text
        assert superscript.json()["type"] == "https://tongban.example/problems/bad-signature"
        assert "Unix seconds" in superscript.json()["detail"]
        deep = b"[" * 100_000 + b"]" * 100_000
        nested = http.post(url, content=deep, headers={**auth, **_signed(secret, deep, str(int(time.time())))})
        assert nested.status_code == 422, nested.text[:300]
        assert nested.json()["type"] == "https://tongban.example/problems/json-too-deep"


def test_the_carrier_webhook_streams_against_its_cap(system: Embedded) -> None:
    auth, _secret = _carrier(system)
    status, headers, body = _streamed(system, "delivery", "/v1/carrier/events",
                                      f"Authorization: {auth['Authorization']}\r\n")
    _problem(status, headers, body, 413)


def test_json_answers_are_not_stored_nor_sniffed(system: Embedded) -> None:
    with httpx.Client(timeout=10) as http:
        auth = {"Authorization": "Bearer " + system.token(SUZHOU)}
        answers = {
            # (the catalogue's public reference data keeps its own ETag policy: private, no-cache)
            "catalogue": http.get(system.base["catalogue"] + "/v1/items/NO-SUCH-ITEM", headers=auth),
            "routing": http.get(system.base["routing"] + "/v1/cases/00000000-0000-0000-0000-000000000000",
                                headers=auth),
            "authorization": http.get(system.base["authorization"] + "/v1/keys", headers=auth),
            "delivery": http.get(system.base["delivery"] + "/v1/delivery-targets", headers=auth),
            "dashboard": http.get(system.base["dashboard"] + "/api/meta"),
            "anonymous": http.get(system.base["routing"] + "/v1/cases"),
        }
        for name, answer in answers.items():
            assert "json" in answer.headers["content-type"], name
            assert answer.headers.get("cache-control") == "no-store", (name, answer.headers)
            assert answer.headers.get("x-content-type-options") == "nosniff", (name, answer.headers)


def test_the_simulator_route_exists_in_the_embedded_system(system: Embedded) -> None:
    with httpx.Client(timeout=10) as http:
        paths = http.get(system.base["delivery"] + "/openapi.json").json()["paths"]
        assert "/v1/dev/carrier/simulate" in paths
        anonymous = http.post(system.base["delivery"] + "/v1/dev/carrier/simulate",
                              json={"waybill_number": "EA000000000CN"})
        assert anonymous.status_code == 401


def test_the_embedded_system_logged_no_unhandled_error(system: Embedded) -> None:
    logged = system.log_path.read_text(errors="replace")
    assert "unhandled error" not in logged, [line[:400] for line in logged.splitlines() if "unhandled" in line][:5]
