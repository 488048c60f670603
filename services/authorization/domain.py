"""Rules of the credentials of locality systems. Pure: no I/O."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a locality system may do."""

    WINDOW_CLERK = "window_clerk"
    DEPARTMENT_OFFICER = "department_officer"
    SUPERVISOR = "supervisor"
    MAINTAINER = "maintainer"
    OPERATOR = "operator"
    CARRIER = "carrier"


_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of a client secret, as ``scrypt$<salt>$<hash>``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches a hash made by :func:`hash_secret`."""
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(secret.encode("utf-8"), salt=bytes.fromhex(salt), **_SCRYPT)  # type: ignore[arg-type]
    return hmac.compare_digest(candidate.hex(), digest)


def new_client_id(locality: str) -> str:
    """A client id naming its locality, e.g. ``320505-6f1c2a9b``."""
    return f"{locality}-{secrets.token_hex(4)}"


def new_client_secret() -> str:
    """A fresh client secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Client:
    """A locality system holding client credentials."""

    client_id: str
    locality: str
    name: str
    roles: tuple[Role, ...]
    revoked: bool = False
