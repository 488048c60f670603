"""The content type of a file, from its bytes (never its name or header). Pure: no I/O.

PDF, JPEG, PNG and OFD (GB/T 33190: a ZIP package whose root holds ``OFD.xml``) are accepted;
everything else (executables, HTML, SVG, other archives, unknown bytes) is refused. The bytes are
looked at as they stream past: the head for the magic number, and every ZIP entry header for the
name ``OFD.xml``, with a small overlap between chunks, so memory stays bounded.
"""

from __future__ import annotations

import re

import puremagic

ACCEPTED = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "application/ofd": ".ofd"}
HEAD = 4096
_ZIP_ENTRY = re.compile(rb"PK\x03\x04.{22}(..)(..)", re.DOTALL)


class RefusedContent(ValueError):
    """Bytes of a kind that case files may not hold (415)."""


class Sniffer:
    """Fed the upload's chunks in order; :meth:`content_type` tells what they are."""

    def __init__(self) -> None:
        self.head = bytearray()
        self._tail = b""
        self.ofd_entry = False

    @property
    def decided(self) -> bool:
        """Whether enough of the head has been seen to judge it."""
        return len(self.head) >= HEAD

    def feed(self, chunk: bytes) -> None:
        """Look at more bytes."""
        if len(self.head) < HEAD:
            self.head += chunk[: HEAD - len(self.head)]
        if self.head.startswith(b"PK\x03\x04") and not self.ofd_entry:
            window = self._tail + chunk
            for match in _ZIP_ENTRY.finditer(window):
                length = int.from_bytes(match.group(1), "little")
                start = match.end()
                if window[start:start + length] == b"OFD.xml":
                    self.ofd_entry = True
            self._tail = window[-400:]

    def judge_head(self) -> str | None:
        """The type by the head alone; RefusedContent when the head already rules the file out."""
        head = bytes(self.head)
        if not head:
            raise RefusedContent("the file is empty")
        if head.startswith(b"PK\x03\x04"):
            return None  # a ZIP package: an OFD only if an OFD.xml entry comes by
        named = _library_types(head)
        for mime, magic in _MAGIC.items():
            if head.startswith(magic) and mime in named:  # the library and the leading bytes agree
                return mime
        raise RefusedContent(f"case files are PDF, JPEG, PNG or OFD; these bytes are {describe(head)}")

    def content_type(self) -> str:
        """The accepted type of the whole file, or RefusedContent."""
        by_head = self.judge_head()
        if by_head is not None:
            return by_head
        if self.ofd_entry:
            return "application/ofd"
        raise RefusedContent("archives are refused: this ZIP package holds no OFD.xml, so it is no OFD document")


_MAGIC = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


def _library_types(head: bytes) -> set[str]:
    """The MIME types puremagic finds in the head."""
    try:
        return {m.mime_type for m in puremagic.magic_string(head) if m.mime_type}
    except puremagic.PureError:
        return set()


def describe(head: bytes) -> str:
    """What the bytes look like, for the refusal's message."""
    if head.startswith(b"\x7fELF") or head.startswith(b"MZ"):
        return "an executable"
    try:
        found = puremagic.magic_string(head)
    except puremagic.PureError:
        found = []
    names = [m.mime_type or m.extension for m in found if m.mime_type or m.extension]
    return names[0] if names else "of no known kind"
