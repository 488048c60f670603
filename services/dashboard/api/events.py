"""The live stream (server-sent events) and the recent events the operator may see."""


from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.dashboard.api.common import (
    COOKIE,
    SSE_EVENT,
    Ctx,
    Operator,
)
from services.dashboard.api.schemas import (
    EventView,
)
from services.dashboard.events import broadcaster
from services.dashboard.service import session_viewer
from services.dashboard.store import utc
from services.dashboard.store_read_model import ReadModel
from services.dashboard.stream import stream
from shared.problems import NotFound

router = APIRouter(prefix="/api", tags=["dashboard"])


# --------------------------------------------------------------------------- events


@router.get("/stream", summary="Live events (server-sent events)", response_class=StreamingResponse,
         responses={200: {"description": "A `text/event-stream` of `EventView` messages (JSON in each `data:`)",
                          "content": {"text/event-stream": {"schema": SSE_EVENT}}}})
async def live(request: Request, viewer: Operator, ctx: Ctx) -> StreamingResponse:
    session_id = request.cookies[COOKIE]

    async def still_valid() -> bool:
        if await request.is_disconnected():
            return False
        return await session_viewer(ctx, session_id) is not None

    return StreamingResponse(
        stream(broadcaster(ctx), viewer, still_valid),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _event_view(row: Any, localities: list[str]) -> EventView:
    return EventView(
        id=row.event_id, type=row.type, source=row.source, subject=row.subject, time=utc(row.time),
        case_id=row.case_id, traceparent=row.traceparent, data=row.data, localities=localities,
        locality=localities[0] if localities else None, received_at=utc(row.received_at), dead_letter=None,
    )


@router.get("/events", summary="Recent events the operator may see, newest first")
async def recent(
    viewer: Operator, ctx: Ctx,
    type_: Annotated[str | None, Query(alias="type", max_length=255)] = None,
    case_id: Annotated[str | None, Query(max_length=128)] = None,
    locality: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[EventView]:
    async with ctx.sessionmaker() as session:
        rows = await ReadModel(session).recent_events(viewer, limit, type_, case_id, locality)
    return [_event_view(r, where) for r, where in rows]


@router.get("/events/{event_id}", summary="One event: its envelope and data (masked)")
async def one_event(event_id: str, viewer: Operator, ctx: Ctx) -> EventView:
    async with ctx.sessionmaker() as session:
        found = await ReadModel(session).event(event_id)
    if found is None or not viewer.sees(found[1]):
        raise NotFound(f"no event {event_id}")
    return _event_view(*found)
