"""JSON parsed with its nesting bounded: what every service reads from outside goes through here.

Python's ``json`` recurses: a document of 100,000 nested brackets ends in a ``RecursionError``,
which no ``except ValueError`` catches (a 500). The request frame (``shared/limits.py``) bounds every
JSON body; what a route reads itself (a carrier batch, a JWS header or payload, a paging cursor)
uses :func:`loads_json`, whose refusal is a ``ValueError`` like any other bad JSON.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULT_MAX_DEPTH = 64
"""The default of ``TONGBAN_MAX_JSON_DEPTH``; shallow documents (cursors, JWS headers) use it as is."""

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACES_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")


class JsonTooDeep(ValueError):
    """A JSON document nested deeper than the bound."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON may nest arrays and objects at most {max_depth} levels deep")
        self.max_depth = max_depth


def json_depth_exceeds(data: bytes | str, max_depth: int = DEFAULT_MAX_DEPTH) -> bool:
    """Whether ``data`` nests arrays and objects deeper than ``max_depth`` (or leaves them unbalanced).

    No recursion and no Python loop over the bytes, every step in C: escaped backslashes and quotes
    are dropped, then what stands inside quotes; braces become brackets and all else goes; each pass
    then removes the innermost pairs, one level, at most ``max_depth`` passes.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    brackets = outside_strings.translate(_BRACES_AS_BRACKETS, _NOT_BRACKETS)
    run = b"[" * (max_depth + 1)
    for _ in range(max_depth):
        if not brackets:
            return False
        if run in brackets:
            return True  # that many openers in a row: too deep whatever follows
        inner_removed = brackets.replace(b"[]", b"")
        if len(inner_removed) == len(brackets):
            return True  # nothing pairs up: unbalanced
        brackets = inner_removed
    return bool(brackets)


def loads_json(data: bytes | str, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """``json.loads`` bounded in depth: :class:`JsonTooDeep` (a ``ValueError``) past ``max_depth``."""
    if json_depth_exceeds(data, max_depth):
        raise JsonTooDeep(max_depth)
    return json.loads(data)
