"""A small keep-alive HTTP/1.1 client for load generation.

httpx costs about a millisecond of CPU per request; on a two-core machine that shares its cores
with five services, Kafka and PostgreSQL, the load generator would steal much of what it measures.
This client writes a prepared request on a pooled connection and reads the status line, the
headers and a ``Content-Length`` (or chunked) body: enough for uvicorn, nothing more.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Response:
    """Status and body of one response."""

    status: int
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class _Unanswered(ConnectionError):
    """The connection was closed before any byte of a response came back."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[Response, bool]:
        self.writer.write(request)
        try:
            status_line = await self.reader.readline()
        except ConnectionResetError:
            raise _Unanswered from None
        if not status_line:
            raise _Unanswered
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, keep = -1, False, True
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                keep = False
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            body = b"".join(parts)
        elif length >= 0:
            body = await self.reader.readexactly(length)
        else:
            body, keep = await self.reader.read(), False
        return Response(status, body), keep

    def close(self) -> None:
        self.writer.close()


class HttpPool:
    """Keep-alive connections to one server, opened on demand up to ``size``."""

    def __init__(self, base_url: str, size: int = 256, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.size = size
        self.headers = dict(headers or {})
        self._idle: list[_Connection] = []
        self._open = 0
        self._freed = asyncio.Condition()

    async def _acquire(self) -> _Connection:
        async with self._freed:
            while not self._idle and self._open >= self.size:
                await self._freed.wait()
            while self._idle:
                conn = self._idle.pop()
                if not conn.reader.at_eof():
                    return conn
                conn.close()  # the server closed it while idle (uvicorn's keep-alive timeout)
                self._open -= 1
            self._open += 1
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, limit=2**20)
        except BaseException:
            async with self._freed:
                self._open -= 1
                self._freed.notify()
            raise
        return _Connection(reader, writer)

    async def _release(self, conn: _Connection, keep: bool) -> None:
        async with self._freed:
            if keep:
                self._idle.append(conn)
            else:
                conn.close()
                self._open -= 1
            self._freed.notify()

    def prepare(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> bytes:
        """The bytes of a request (the same bytes may be sent many times)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in {**self.headers, **(headers or {})}.items():
            lines.append(f"{name}: {value}")
        payload = body or b""
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(payload)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + payload

    async def send(self, request: bytes) -> Response:
        """Send prepared request bytes; the response.

        A kept-alive connection that the server closed before answering anything (its idle timeout
        raced the request) is replaced once, as HTTP clients do; the server never saw that request.
        """
        for attempt in (1, 2):
            conn = await self._acquire()
            try:
                response, keep = await conn.exchange(request)
            except _Unanswered:
                await self._release(conn, False)
                if attempt == 2:
                    raise ConnectionError("connection closed by the server") from None
                continue
            except BaseException:
                await self._release(conn, False)
                raise
            await self._release(conn, keep)
            return response
        raise AssertionError("unreachable")

    async def request(self, method: str, path: str, *, json_body: Any = None, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> Response:
        """One request; ``json_body`` is sent as ``application/json``."""
        extra = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            extra.setdefault("Content-Type", "application/json")
        return await self.send(self.prepare(method, path, body, extra))

    async def close(self) -> None:
        """Close every idle connection."""
        async with self._freed:
            for conn in self._idle:
                conn.close()
            self._open -= len(self._idle)
            self._idle.clear()
