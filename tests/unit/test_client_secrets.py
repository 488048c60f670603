"""Client secrets are stored as salted scrypt hashes."""

from __future__ import annotations

from services.authorization.domain import hash_secret, verify_secret


def test_secret_hash_verifies_only_the_secret() -> None:
    stored = hash_secret("s3cret")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert verify_secret("s3cret", stored)
    assert not verify_secret("s3cret!", stored)
    assert hash_secret("s3cret") != stored  # salted
    assert not verify_secret("s3cret", "md5$x$y")
    assert not verify_secret("s3cret", "garbage")
