"""The live stream: records read by the dashboard's consumer, fanned out to operators' browsers.

One event reaches the dashboard once per locality topic it was published on. The broadcaster
merges those copies: a browser gets the event once, when it first reads it on a topic the operator
may see, and afterwards only the extra localities it was also read on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from services.dashboard.domain import Viewer

HISTORY = 300
"""Events a browser gets at once when it connects (those it may see among the latest)."""
REMEMBERED = 5000
"""Event ids remembered to merge copies read on several topics."""
QUEUE = 2000
"""Messages waiting per browser; a browser further behind misses some and is told so."""


@dataclass(eq=False)
class Listener:
    """One browser's stream."""

    viewer: Viewer
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = field(default_factory=lambda: asyncio.Queue(QUEUE))
    missed: int = 0

    def offer(self, kind: str, message: dict[str, Any]) -> None:
        """Queue a message, or count it as missed when the browser is too far behind."""
        try:
            self.queue.put_nowait((kind, message))
        except asyncio.QueueFull:
            self.missed += 1


class Broadcaster:
    """Fans records out to every listening browser, each seeing only its localities."""

    def __init__(self) -> None:
        self._recent: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._listeners: set[Listener] = set()
        self.published = 0

    @property
    def listeners(self) -> int:
        """How many browsers listen."""
        return len(self._listeners)

    def publish(self, message: dict[str, Any]) -> None:
        """One record as :func:`describe_record` made it (``locality`` says which topic it was read on)."""
        self.published += 1
        locality = message["locality"]
        known = self._recent.get(message["id"])
        if known is None:
            self._recent[message["id"]] = message
            while len(self._recent) > REMEMBERED:
                self._recent.popitem(last=False)
            for listener in self._listeners:
                if listener.viewer.sees([locality]):
                    listener.offer("event", message)
            return
        if locality in known["localities"]:
            return  # the same record again (redelivery)
        before = list(known["localities"])
        known["localities"] = sorted({*before, locality})
        update = {"id": known["id"], "localities": known["localities"]}
        for listener in self._listeners:
            if listener.viewer.sees(before):
                listener.offer("localities", update)
            elif listener.viewer.sees([locality]):
                listener.offer("event", known)

    def history(self, viewer: Viewer, limit: int = HISTORY) -> list[dict[str, Any]]:
        """The latest messages the viewer may see, oldest first."""
        found = [m for m in reversed(self._recent.values()) if viewer.sees(m["localities"])][:limit]
        return list(reversed(found))

    @contextlib.contextmanager
    def listen(self, viewer: Viewer):  # type: ignore[no-untyped-def]
        """A listener for the duration of a ``with`` block."""
        listener = Listener(viewer)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)


def sse(kind: str, message: dict[str, Any] | None = None, event_id: str | None = None) -> str:
    """One server-sent event (``event:``, ``id:``, ``data:`` lines and a blank line)."""
    lines = [f"event: {kind}"]
    if event_id:
        lines.append("id: " + event_id.replace("\n", " ").replace("\r", " "))
    lines.append("data: " + json.dumps(message or {}, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


async def stream(
    broadcaster: Broadcaster, viewer: Viewer, still_valid: Any, heartbeat: float = 15.0, max_seconds: float = 900.0,
) -> AsyncIterator[str]:
    """The server-sent events of one browser: recent history, then live messages and heartbeats.

    ``still_valid`` is an async callable checked at each heartbeat: when the session ends the
    stream says ``logout`` and closes. The stream also ends after ``max_seconds``; the browser's
    EventSource reconnects by itself (and the session is checked again).
    """
    loop = asyncio.get_running_loop()
    ends = loop.time() + max_seconds
    with broadcaster.listen(viewer) as listener:
        yield "retry: 2000\n\n"
        yield sse("hello", {"viewer": {"locality": viewer.locality, "regional": viewer.regional}})
        for message in broadcaster.history(viewer):
            yield sse("event", message, message["id"])
        while loop.time() < ends:
            try:
                kind, message = await asyncio.wait_for(listener.queue.get(), heartbeat)
            except TimeoutError:
                if not await still_valid():
                    yield sse("logout", {})
                    return
                yield ": ping\n\n"
                continue
            if listener.missed:
                yield sse("gap", {"missed": listener.missed})
                listener.missed = 0
            yield sse(kind, message, message.get("id") if kind == "event" else None)
