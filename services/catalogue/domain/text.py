"""Rules for text the catalogue stores and exports. Pure."""

from __future__ import annotations

from services.catalogue.domain.errors import InvalidContent


def clean_text(field_name: str, value: str, max_length: int, *, required: bool = True, multiline: bool = False) -> str:
    """``value`` stripped; :class:`InvalidContent` when empty (if required), too long, or unsafe.

    Text may not begin with ``=`` or ``@`` (spreadsheets would run it as a formula) and may not
    hold control characters (line breaks only where ``multiline``).
    """
    text = value.replace("\r\n", "\n").strip()
    if required and not text:
        raise InvalidContent(field_name, "is required")
    if len(text) > max_length:
        raise InvalidContent(field_name, f"is longer than {max_length} characters")
    if text[:1] in ("=", "@"):
        raise InvalidContent(field_name, "may not begin with '=' or '@'")
    allowed = "\n" if multiline else ""
    if any(ord(c) < 32 and c not in allowed for c in text):
        raise InvalidContent(field_name, "holds a line break or control character")
    return text
