"""The materials of a case: how they are named and hashed. Pure: no I/O.

One rule everywhere a material's name or hash comes in (submission, supplement, receipt): names are
NFC-normalised and trimmed, must hold something other than whitespace, and may not carry control,
bidirectional-override or zero-width characters (they make one name look like another); a SHA-256 or
SM3 digest is 64 hexadecimal digits, either case on input, lower case from then on.
"""

from __future__ import annotations

import re
import unicodedata

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_INVISIBLE = frozenset({"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e"})
MAX_NAME = 200


class InvalidMaterial(ValueError):
    """A material whose name, form or digest breaks the rules."""


def clean_name(name: str, what: str = "a material's name") -> str:
    """The name in its one form (NFC, trimmed); :class:`InvalidMaterial` when it cannot be one."""
    value = unicodedata.normalize("NFC", name).strip()
    if not value:
        raise InvalidMaterial(f"{what} is empty")
    for char in value:
        category = unicodedata.category(char)
        if char in _INVISIBLE or category in ("Cc", "Cf", "Cs", "Co", "Cn") or category in ("Zl", "Zp"):
            raise InvalidMaterial(f"{what} holds the invisible or control character U+{ord(char):04X}")
    if len(value) > MAX_NAME:
        raise InvalidMaterial(f"{what} is longer than {MAX_NAME} characters")
    return value


def clean_digest(value: str, what: str = "sha256") -> str:
    """A 64-digit hexadecimal digest in lower case; :class:`InvalidMaterial` otherwise."""
    lowered = value.strip().lower()
    if not _HEX64.match(lowered):
        raise InvalidMaterial(f"{what} must be 64 hexadecimal digits")
    return lowered
