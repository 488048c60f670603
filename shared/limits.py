"""Bounds on what a request may hold, checked before anything parses it; headers every answer carries.

Every service (and the dashboard) is wrapped in :class:`RequestLimits`, an ASGI middleware of the
service frame. Before the application sees a request it answers, as problem+json:

- 431 when the request's headers together pass ``max_header_bytes`` (a 4 MB ``Authorization``
  header is never handed to the token verifier);
- 413 when ``Content-Length`` passes the body cap, or when the bytes streamed in do (chunked bodies);
- 400 when ``Content-Length`` is not a plain number;
- 422 when a JSON body nests arrays and objects deeper than ``max_json_depth``: Python's parser
  recurses, and 100,000 nested brackets would end in a ``RecursionError`` (a 500) otherwise.

A body is read into memory up to its cap, checked, and handed on; routes that read their own body
as a stream (the carrier webhook, catalogue imports) name their cap in the service definition and get
the body as it comes, counted against that cap. Every answer gets ``X-Content-Type-Options: nosniff``
and JSON answers ``Cache-Control: no-store`` (they carry cases, addresses and masked identities that
no shared cache or browser history should keep) unless the route set its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.bounded_json import json_depth_exceeds
from shared.problems import Problem, problem_response

_BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class BodyTooLarge(Problem):
    """A request body past its cap: 413."""

    status, slug, title = 413, "too-large", "Request too large"


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI would parse a body of this type as JSON (no type at all counts)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestLimits:
    """ASGI middleware: header and body size, JSON depth, and the headers of every answer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_header_bytes: int,
        max_json_depth: int,
        streamed: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes
        self.max_json_depth = max_json_depth
        self.streamed = [(_route_pattern(route), cap) for route, cap in (streamed or {}).items()]
        """Route path (``{name}`` for a path parameter) → the cap of a route that streams its own body."""

    def _streamed_cap(self, path: str) -> int | None:
        """The cap of the streaming route ``path`` belongs to, or None when the frame reads the body."""
        return next((cap for pattern, cap in self.streamed if pattern.fullmatch(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_safe_headers(send)
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        size = sum(len(name) + len(value) + 4 for name, value in headers)  # "name: value\r\n"
        if size > self.max_header_bytes:
            await self._refuse(scope, receive, send, 431, "Request header fields too large", "headers-too-large",
                               f"the request's headers hold {size} bytes; at most {self.max_header_bytes} are read")
            return
        lookup = {name: value for name, value in headers if name in (b"content-length", b"content-type",
                                                                     b"transfer-encoding")}
        path: str = scope.get("path", "")
        streamed_cap = self._streamed_cap(path)
        cap = self.max_body_bytes if streamed_cap is None else streamed_cap
        declared = lookup.get(b"content-length")
        if declared is not None:
            if not (declared.isdigit() and declared.isascii()):
                await self._refuse(scope, receive, send, 400, "Bad request", "bad-content-length",
                                   "Content-Length must be a number of bytes")
                return
            if int(declared) > cap:
                await self._too_large(scope, receive, send, cap)
                return
        elif scope.get("method") in _BODILESS and b"transfer-encoding" not in lookup:
            await self.app(scope, receive, send)  # no body to bound
            return
        if streamed_cap is not None:
            await self.app(scope, _counted(receive, cap), send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body was complete
            body += message.get("body", b"")
            if len(body) > cap:
                await self._too_large(scope, receive, send, cap)
                return
            if not message.get("more_body", False):
                break
        content_type = lookup.get(b"content-type")
        if body and _is_json(content_type.decode("latin-1") if content_type else None) \
                and json_depth_exceeds(bytes(body), self.max_json_depth):
            await self._refuse(scope, receive, send, 422, "JSON nested too deeply", "json-too-deep",
                               f"JSON may nest arrays and objects at most {self.max_json_depth} levels deep")
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        await self._refuse(scope, receive, send, 413, BodyTooLarge.title, BodyTooLarge.slug,
                           f"the request body may hold at most {cap} bytes", max_bytes=cap)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, title: str, slug: str,
                      detail: str, **extra: Any) -> None:
        headers = {"Connection": "close"} if status in (413, 431) else None
        response = problem_response(status, title, detail, slug, scope.get("path"), headers, **extra)
        await response(scope, receive, send)


def _route_pattern(route: str) -> re.Pattern[str]:
    """A route path such as ``/v1/import/{name}`` as a pattern of the paths it serves (``^...``: a regex)."""
    if route.startswith("^"):
        return re.compile(route)
    return re.compile("[^/]+".join(re.escape(part) for part in re.split(r"\{[^/{}]+\}", route)))


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the read body once, then the client's own messages (its disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _counted(receive: Receive, cap: int) -> Receive:
    """A receive that raises :class:`BodyTooLarge` once more than ``cap`` bytes came in."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise BodyTooLarge(f"the request body may hold at most {cap} bytes", max_bytes=cap)
        return message

    return counted


def _with_safe_headers(send: Send) -> Send:
    """A send that adds ``nosniff`` to every answer and ``no-store`` to JSON ones without a cache policy."""

    async def safe(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
            names = {name.lower() for name, _ in headers}
            if b"x-content-type-options" not in names:
                headers.append((b"x-content-type-options", b"nosniff"))
            if b"cache-control" not in names:
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if b"json" in content_type.lower() or content_type.startswith(b"text/event-stream"):
                    headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return safe

