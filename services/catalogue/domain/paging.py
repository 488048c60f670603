"""Opaque cursors of paginated listings. Pure.

A cursor carries the last key of a page and a fingerprint of the filters it was made under, so a
cursor replayed with other filters is refused rather than silently skipping items.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping

from services.catalogue.domain.errors import InvalidContent
from shared.bounded_json import loads_json


def fingerprint(filters: Mapping[str, object]) -> str:
    """A short digest of the filters of a listing."""
    canonical = json.dumps({k: v for k, v in filters.items() if v is not None}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def encode_cursor(after: str, filters: Mapping[str, object]) -> str:
    """The cursor of the page that follows the key ``after``."""
    raw = json.dumps([1, after, fingerprint(filters)], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, filters: Mapping[str, object]) -> str:
    """The key a cursor continues after; :class:`InvalidContent` (field ``cursor``) if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, after, digest = loads_json(raw.decode("utf-8"))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidContent("cursor", "is not a cursor of this listing") from None
    if version != 1 or not isinstance(after, str) or not after.isprintable() or len(after) > 64:
        raise InvalidContent("cursor", "is not a cursor of this listing")
    if digest != fingerprint(filters):
        raise InvalidContent("cursor", "was made for other filters; start again without it")
    return after
