"""HMAC-SHA256 signatures of carrier requests: over the timestamp and the body, fresh for 5 minutes."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.delivery.domain import BadSignature, sign, verify_signature

SECRET = bytes(range(32))
BODY = b'{"events":[{"waybill_number":"EA123456785CN","code":"EMA","occurred_at":"2026-03-02T09:00:00Z"}]}'
NOW = 1_772_442_000.0


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, b"1772442000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, "1772442000", BODY) == "sha256=" + expected


def test_a_good_signature_verifies() -> None:
    verify_signature(SECRET, "1772442000", sign(SECRET, "1772442000", BODY), BODY, NOW)
    verify_signature(SECRET, "1772441750", sign(SECRET, "1772441750", BODY), BODY, NOW)  # 250 s old


@pytest.mark.parametrize(("timestamp", "signature", "body", "reason"), [
    ("1772442000", None, BODY, "required"),
    (None, "sha256=00", BODY, "required"),
    ("1772442000", sign(SECRET, "1772442000", BODY), BODY + b" ", "does not match"),
    ("1772442000", sign(b"another secret", "1772442000", BODY), BODY, "does not match"),
    ("1772442001", sign(SECRET, "1772442000", BODY), BODY, "does not match"),
    ("1772441600", sign(SECRET, "1772441600", BODY), BODY, "stale"),
    ("1772442400", sign(SECRET, "1772442400", BODY), BODY, "stale"),
    ("2026-03-02T09:00:00Z", "sha256=00", BODY, "Unix seconds"),
    ("-1772442000", "sha256=00", BODY, "Unix seconds"),
])
def test_bad_or_stale_signatures_are_refused(
    timestamp: str | None, signature: str | None, body: bytes, reason: str
) -> None:
    with pytest.raises(BadSignature, match=reason):
        verify_signature(SECRET, timestamp, signature, body, NOW)


def test_the_hex_without_prefix_is_refused() -> None:
    bare = sign(SECRET, "1772442000", BODY).removeprefix("sha256=")
    with pytest.raises(BadSignature):
        verify_signature(SECRET, "1772442000", bare, BODY, NOW)
