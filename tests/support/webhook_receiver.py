"""A locality system's webhook endpoint for tests: verifies every delivery with ``standardwebhooks``.

It runs on loopback in the test's event loop (uvicorn), answers 204 to a delivery whose signature
verifies with one of the secrets it knows and 400 to any other, and keeps what it accepted. It can
be stopped and started again on the same port, as a receiver that was down for a while. Given a
certificate and key it answers HTTPS (``url`` then names ``name``, which the certificate must carry).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    """One accepted delivery."""

    webhook_id: str
    timestamp: str
    signature: str
    body: str
    event: dict[str, Any]


@dataclass
class Receiver:
    """The endpoint; ``secrets`` are what the locality's system was given (any one may verify)."""

    port: int
    secrets: list[str] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    tls: tuple[Path, Path] | None = None
    """Certificate and key files: the receiver answers HTTPS."""
    name: str = "127.0.0.1"
    """The host the URL names (it listens on 127.0.0.1 whatever the name)."""
    hosts: list[str] = field(default_factory=list)
    """The ``Host`` header of every request, in order."""
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Where the receiver listens."""
        return f"{'https' if self.tls else 'http'}://{self.name}:{self.port}/hooks/tongban"

    def verify(self, body: str, headers: dict[str, str]) -> dict[str, Any]:
        """What a receiver does: the event if some known secret verifies it; WebhookVerificationError if none."""
        error: Exception = WebhookVerificationError("no secret")
        for secret in self.secrets:
            try:
                return dict(Webhook(secret).verify(body, headers))
            except WebhookVerificationError as exc:
                error = exc
        raise error

    async def _hook(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8")
        headers = dict(request.headers)
        self.hosts.append(headers.get("host", ""))
        try:
            event = self.verify(body, headers)
        except WebhookVerificationError as exc:
            self.refused.append(str(exc))
            return Response(status_code=400)
        self.accepted.append(Received(headers["webhook-id"], headers["webhook-timestamp"],
                                      headers["webhook-signature"], body, event))
        return Response(status_code=204)

    async def start(self) -> None:
        """Listen (again) on the port."""
        app = Starlette(routes=[Route("/hooks/tongban", self._hook, methods=["POST"])])
        certificate, key = self.tls or (None, None)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False,
                                lifespan="off", ssl_certfile=certificate, ssl_keyfile=key)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("receiver did not start")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop listening: deliveries are refused at the TCP level until started again."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._server = self._task = None

    def events_of(self, subject: str) -> list[Received]:
        """Accepted deliveries of one subject (a case), in the order they arrived."""
        return [r for r in self.accepted if r.event.get("subject") == subject]

    @staticmethod
    def first_seen(received: list[Received]) -> list[str]:
        """Event ids in the order first received (repeats dropped, as a receiver would by webhook-id)."""
        return list(dict.fromkeys(r.event["id"] for r in received))

    @staticmethod
    def dumps(event: dict[str, Any]) -> str:
        """Compact JSON, as the dispatcher sends."""
        return json.dumps(event, ensure_ascii=False, separators=(",", ":"))
