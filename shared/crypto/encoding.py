"""Base64url (RFC 4648 §5, no padding), as JOSE uses it."""

from __future__ import annotations

import base64
import binascii


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError when it is not base64url."""
    if not isinstance(text, str):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError("not base64url") from exc
