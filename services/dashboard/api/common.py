"""What the dashboard's routes share: the session cookie and the operator it names, the page's headers."""


from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Response
from fastapi.security import APIKeyCookie

from services.dashboard.domain import (
    Viewer,
)
from services.dashboard.service import session_viewer
from shared.problems import Problem
from shared.service import ServiceContext, get_context

STATIC = Path(__file__).parent.parent / "static"
COOKIE = "tongban_dashboard_session"
ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

SSE_EVENT = {
    "type": "object", "required": ["event", "data"],
    "description": "One server-sent event: `hello` (the viewer), `event` (an EventView), `localities` (an event "
                   "seen on another topic), `gap` (how many were missed), `logout` (the session ended).",
    "properties": {"event": {"type": "string", "enum": ["hello", "event", "localities", "gap", "logout"]},
                   "data": {"type": "string", "description": "JSON"},
                   "id": {"type": "string"}, "retry": {"type": "integer"}},
}
Ctx = Annotated[ServiceContext, Depends(get_context)]


class SessionRequired(Problem):
    """No session cookie, or one that has ended: 401."""

    status, slug, title = 401, "session-required", "Session required"


SessionCookie = APIKeyCookie(name=COOKIE, auto_error=False, scheme_name="session",
                             description="The operator's session, set by `POST /api/session`.")


async def current_viewer(ctx: Ctx, session_id: Annotated[str | None, Depends(SessionCookie)]) -> Viewer:
    """FastAPI dependency: the operator of the request's session."""
    if not session_id:
        raise SessionRequired("log in first: this needs an operator's session")
    viewer = await session_viewer(ctx, session_id)
    if viewer is None:
        raise SessionRequired("the session has ended; log in again")
    return viewer


Operator = Annotated[Viewer, Depends(current_viewer)]


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


