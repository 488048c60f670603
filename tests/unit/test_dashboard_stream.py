"""The live stream's broadcaster: copies merged, each operator sees only its localities, slow browsers told."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from services.dashboard import stream as streaming
from services.dashboard.domain import Viewer
from services.dashboard.stream import Broadcaster, sse, stream

SUZHOU = Viewer("320505-a", "320505", regional=False)
YANGPU = Viewer("310110-b", "310110", regional=False)
BOZHOU = Viewer("341600-c", "341600", regional=False)
REGIONAL = Viewer("310110-d", "310110", regional=True)


def message(event_id: str, locality: str) -> dict[str, Any]:
    return {"id": event_id, "locality": locality, "localities": [locality], "type": "t"}


def drain(queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    while not queue.empty():
        found.append(queue.get_nowait())
    return found


def test_copies_on_several_topics_reach_each_operator_once() -> None:
    hub = Broadcaster()
    with hub.listen(SUZHOU) as suzhou, hub.listen(BOZHOU) as bozhou, hub.listen(YANGPU) as yangpu, \
            hub.listen(REGIONAL) as regional:
        hub.publish(message("e1", "320505"))
        hub.publish(message("e1", "341600"))
        hub.publish(message("e1", "341600"))  # redelivered
        got = {name: drain(listener.queue) for name, listener in
               (("suzhou", suzhou), ("bozhou", bozhou), ("yangpu", yangpu), ("regional", regional))}
    assert [k for k, _ in got["suzhou"]] == ["event", "localities"]
    assert got["suzhou"][1][1] == {"id": "e1", "localities": ["320505", "341600"]}
    assert [k for k, _ in got["bozhou"]] == ["event"], "Bozhou gets the event when its copy arrives"
    assert got["bozhou"][0][1]["localities"] == ["320505", "341600"]
    assert got["yangpu"] == []
    assert [k for k, _ in got["regional"]] == ["event", "localities"]
    assert hub.listeners == 0


def test_history_holds_what_the_operator_may_see() -> None:
    hub = Broadcaster()
    for i in range(5):
        hub.publish(message(f"e{i}", "320505" if i % 2 else "310110"))
    assert [m["id"] for m in hub.history(SUZHOU)] == ["e1", "e3"]
    assert [m["id"] for m in hub.history(REGIONAL, limit=3)] == ["e2", "e3", "e4"]


def test_a_slow_browser_misses_messages_and_is_told(monkeypatch: Any) -> None:
    monkeypatch.setattr(streaming, "QUEUE", 2)
    hub = Broadcaster()
    with hub.listen(REGIONAL) as listener:
        for i in range(5):
            hub.publish(message(f"e{i}", "310110"))
        assert listener.queue.qsize() == 2 and listener.missed == 3


def test_server_sent_events_are_framed() -> None:
    framed = sse("event", {"id": "e1", "text": "通办"}, "e1\nx")
    assert framed.endswith("\n\n")
    lines = framed.splitlines()
    assert lines[0] == "event: event" and lines[1] == "id: e1 x"
    assert json.loads(lines[2].removeprefix("data: ")) == {"id": "e1", "text": "通办"}


async def test_the_stream_sends_history_live_events_and_ends_with_the_session() -> None:
    hub = Broadcaster()
    hub.publish(message("old", "320505"))
    valid = [True]

    async def still_valid() -> bool:
        return valid[0]

    chunks: list[str] = []

    async def read() -> None:
        async for chunk in stream(hub, SUZHOU, still_valid, heartbeat=0.05, max_seconds=5):
            chunks.append(chunk)

    reader = asyncio.create_task(read())
    while hub.listeners == 0:
        await asyncio.sleep(0.01)
    hub.publish(message("new", "320505"))
    hub.publish(message("other", "331000"))
    await asyncio.sleep(0.2)
    valid[0] = False
    await asyncio.wait_for(reader, 2)
    text = "".join(chunks)
    assert text.startswith("retry: 2000")
    assert "event: hello" in text and "id: old" in text and "id: new" in text and "other" not in text
    assert ": ping" in text and text.rstrip().endswith("data: {}") and "event: logout" in text
    assert hub.listeners == 0
