"""The dashboard's page and its JSON API: login, the live stream, the panels.

The page and its static files are public; every other endpoint needs an operator's session
(a random id in an HttpOnly, SameSite=Strict cookie; the database keeps only its SHA-256).
Errors are problem+json.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.security import APIKeyCookie
from pydantic import BaseModel, ConfigDict, Field

from services.dashboard.domain import (
    FUNNEL,
    LOCALITY_ROLE,
    REGIONAL_ROLE,
    Viewer,
    deadline_panel,
    epoch_minute,
    funnel,
    rate_series,
    session_digest,
    viewer_of,
)
from services.dashboard.events import broadcaster
from services.dashboard.lag import LagReader
from services.dashboard.schemas import (
    AgreementsPanel,
    DeadLettersPanel,
    DeadlinesPanel,
    DeliveriesPanel,
    EventView,
    FilesPanel,
    FunnelPanel,
    LagPanel,
    LocalityName,
    Meta,
    RatesPanel,
)
from services.dashboard.store import ReadModel, login_failures, utc
from services.dashboard.stream import stream
from shared.auth import InsufficientRole, Unauthenticated
from shared.problems import NotFound, Problem
from shared.service import ServiceContext, get_context
from shared.settings import AUDIENCES
from shared.throttle import Attempt, Throttle, TooManyAttempts

STATIC = Path(__file__).parent / "static"
COOKIE = "tongban_dashboard_session"
SESSION_LIFETIME = timedelta(hours=8)
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
pages = APIRouter(tags=["page"])
api = APIRouter(prefix="/api", tags=["dashboard"])
Ctx = Annotated[ServiceContext, Depends(get_context)]


class SessionRequired(Problem):
    """No session cookie, or one that has ended: 401."""

    status, slug, title = 401, "session-required", "Session required"


class LoginRefused(Problem):
    """Wrong client credentials: 401."""

    status, slug, title = 401, "invalid-credentials", "Invalid credentials"


class AuthorizationUnavailable(Problem):
    """The authorization service could not be asked: 503."""

    status, slug, title = 503, "authorization-unavailable", "Authorization service unavailable"


SessionCookie = APIKeyCookie(name=COOKIE, auto_error=False, scheme_name="session",
                             description="The operator's session, set by `POST /api/session`.")


async def current_viewer(ctx: Ctx, session_id: Annotated[str | None, Depends(SessionCookie)]) -> Viewer:
    """FastAPI dependency: the operator of the request's session."""
    if not session_id:
        raise SessionRequired("log in first: this needs an operator's session")
    async with ctx.sessionmaker() as session:
        viewer = await ReadModel(session).viewer(session_digest(session_id), datetime.now(UTC))
    if viewer is None:
        raise SessionRequired("the session has ended; log in again")
    return viewer


Operator = Annotated[Viewer, Depends(current_viewer)]


# --------------------------------------------------------------------------- page


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@pages.get("/", include_in_schema=False)
async def index() -> Response:
    """The dashboard's single page."""
    response = FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return _secured(response)


@pages.get("/static/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    """A file of the page (a fixed list: nothing else of the folder is served)."""
    if name not in ASSETS:
        raise NotFound(f"no asset {name}")
    response = FileResponse(STATIC / name, media_type=ASSETS[name])
    response.headers["Cache-Control"] = "no-cache"
    return _secured(response)


# --------------------------------------------------------------------------- session


class Login(BaseModel):
    """An operator's client credentials and the view asked for."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=128)
    client_secret: str = Field(min_length=1, max_length=512)
    view: Literal["locality", "regional"] = "locality"


class SessionView(BaseModel):
    """Who is logged in and what they see."""

    client_id: str
    locality: str
    regional: bool
    localities: list[str]


def _session_view(ctx: ServiceContext, viewer: Viewer) -> SessionView:
    return SessionView(client_id=viewer.client_id, locality=viewer.locality, regional=viewer.regional,
                       localities=viewer.visible(ctx.localities.codes))


async def _token(ctx: ServiceContext, body: Login) -> str:
    scope = REGIONAL_ROLE if body.view == "regional" else LOCALITY_ROLE
    form = {"grant_type": "client_credentials", "client_id": body.client_id, "client_secret": body.client_secret,
            "scope": scope, "audience": AUDIENCES["dashboard"]}
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(ctx.settings.authorization_base_url() + "/oauth/token", data=form)
    except httpx.HTTPError as exc:
        raise AuthorizationUnavailable(f"cannot reach the authorization service: {type(exc).__name__}") from exc
    if answer.status_code == 200:
        return str(answer.json()["access_token"])
    try:
        error = answer.json()
    except ValueError:
        error = {}
    if answer.status_code == 429:
        wait = answer.headers.get("retry-after", "60")
        raise TooManyAttempts(f"too many failed attempts; try again in {wait} s", headers={"Retry-After": wait})
    if answer.status_code == 401 or error.get("error") == "invalid_client":
        raise LoginRefused("unknown client or wrong secret")
    if error.get("error") == "invalid_scope":
        needed = f"the {REGIONAL_ROLE} role" if body.view == "regional" else f"the {LOCALITY_ROLE} role"
        raise InsufficientRole(f"this client does not hold {needed}")
    raise AuthorizationUnavailable(f"the authorization service answered {answer.status_code}")


def _secure_cookie(ctx: ServiceContext, request: Request) -> bool:
    """Production sessions travel only over HTTPS, whatever scheme a proxy in front reports to us."""
    return ctx.settings.production or request.url.scheme == "https"


async def _throttled_token(ctx: ServiceContext, body: Login, address: str) -> str:
    """A token for the credentials, unless the client id or the address failed too often (429)."""
    throttle = Throttle(login_failures, ctx.settings.throttle_window_seconds)
    attempts = [Attempt("client:" + body.client_id, ctx.settings.throttle_client_failures, audit=False),
                Attempt("address:" + address[:100], ctx.settings.throttle_address_failures, audit=False)]
    now = time.time()
    async with ctx.sessionmaker() as session:
        try:
            await throttle.refuse_if_blocked(session, attempts, now)
        finally:
            await session.commit()
    try:
        return await _token(ctx, body)
    except LoginRefused:
        async with ctx.sessionmaker() as session:
            await throttle.failed(session, attempts, now)
            await throttle.purge(session, now)
            await session.commit()
        raise


@api.post("/session", summary="Log in with an operator's client credentials",
          responses={401: {"description": "unknown client or wrong secret"},
                     403: {"description": "the client does not hold the operator role (or the regional one)"},
                     429: {"description": "too many failed logins for the client id or from the address"}})
async def login(body: Login, request: Request, response: Response, ctx: Ctx) -> SessionView:
    token = await _throttled_token(ctx, body, request.client.host if request.client else "-")
    try:
        caller = await ctx.verifier.verify(token)
    except Unauthenticated as exc:
        raise LoginRefused(f"the token does not verify: {exc.detail}") from exc
    try:
        viewer = viewer_of(caller.client_id, caller.locality, caller.roles, body.view == "regional")
    except PermissionError as exc:
        raise InsufficientRole(str(exc)) from exc
    session_id = secrets.token_urlsafe(32)
    async with ctx.sessionmaker() as session:
        await ReadModel(session).add_session(session_digest(session_id), viewer, datetime.now(UTC), SESSION_LIFETIME)
        await session.commit()
    response.set_cookie(COOKIE, session_id, max_age=int(SESSION_LIFETIME.total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=_secure_cookie(ctx, request))
    response.headers["Cache-Control"] = "no-store"
    return _session_view(ctx, viewer)


@api.get("/session", summary="The operator logged in")
async def whoami(viewer: Operator, ctx: Ctx) -> SessionView:
    return _session_view(ctx, viewer)


@api.delete("/session", status_code=204, summary="Log out")
async def logout(request: Request, ctx: Ctx, _viewer: Operator) -> Response:
    async with ctx.sessionmaker() as session:
        await ReadModel(session).end_session(session_digest(request.cookies[COOKIE]))
        await session.commit()
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure_cookie(ctx, request))
    return response


@api.get("/meta", summary="Localities and the statuses of the life cycle, for the page")
async def meta(_viewer: Operator, ctx: Ctx) -> Meta:
    return Meta(
        localities=[LocalityName(code=loc.code, name_zh=loc.name_zh, name_en=loc.name_en) for loc in ctx.localities],
        statuses=list(FUNNEL),
        lag_source="memory" if ctx.state["lag"].source == "memory" else "kafka",
    )


# --------------------------------------------------------------------------- events


@api.get("/stream", summary="Live events (server-sent events)", response_class=StreamingResponse,
         responses={200: {"description": "A `text/event-stream` of `EventView` messages (JSON in each `data:`)",
                          "content": {"text/event-stream": {"schema": SSE_EVENT}}}})
async def live(request: Request, viewer: Operator, ctx: Ctx) -> StreamingResponse:
    session_id = request.cookies[COOKIE]

    async def still_valid() -> bool:
        if await request.is_disconnected():
            return False
        async with ctx.sessionmaker() as session:
            return await ReadModel(session).viewer(session_digest(session_id), datetime.now(UTC)) is not None

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


@api.get("/events", summary="Recent events the operator may see, newest first")
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


@api.get("/events/{event_id}", summary="One event: its envelope and data (masked)")
async def one_event(event_id: str, viewer: Operator, ctx: Ctx) -> EventView:
    async with ctx.sessionmaker() as session:
        found = await ReadModel(session).event(event_id)
    if found is None or not viewer.sees(found[1]):
        raise NotFound(f"no event {event_id}")
    return _event_view(*found)


# --------------------------------------------------------------------------- panels


@api.get("/panels/rates", summary="Events per minute and locality, and per type, over the last hour")
async def rates(viewer: Operator, ctx: Ctx) -> RatesPanel:
    now = epoch_minute(datetime.now(UTC))
    async with ctx.sessionmaker() as session:
        rows = await ReadModel(session).rate_rows(viewer, now - 59)
    return RatesPanel.model_validate(rate_series(rows, now, viewer.visible(ctx.localities.codes)))


@api.get("/panels/funnel", summary="Cases by status")
async def case_funnel(viewer: Operator, ctx: Ctx) -> FunnelPanel:
    async with ctx.sessionmaker() as session:
        counts = await ReadModel(session).status_counts(viewer)
    return FunnelPanel.model_validate({"statuses": funnel(counts), "total": sum(counts.values())})


@api.get("/panels/deadlines", summary="Cases due soon and overdue per owner")
async def deadlines(viewer: Operator, ctx: Ctx) -> DeadlinesPanel:
    async with ctx.sessionmaker() as session:
        model = ReadModel(session)
        rows = await model.deadline_rows(viewer)
        late = await model.late_deadlines(viewer)
    return DeadlinesPanel.model_validate({
        "owners": deadline_panel(rows, viewer.visible(ctx.localities.codes)),
        "cases": [{"case_id": d.case_id, "owner": d.owner, "state": d.state, "due_on": _date(d.due_on),
                   "provisional": d.provisional} for d in late],
    })


def _date(text: str | None) -> date | None:
    """The date a deadline event named (a date, or the date of a time); None when it named none readable."""
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


@api.get("/panels/files", summary="Per case: how many files are in and whether they are complete (never content)")
async def case_files(viewer: Operator, ctx: Ctx) -> FilesPanel:
    async with ctx.sessionmaker() as session:
        rows = await ReadModel(session).file_counts(viewer)
    return FilesPanel.model_validate({"cases": [
        {"case_id": r.case_id, "status": r.status, "accepting_locality": r.accepting_locality,
         "owning_localities": list(r.owning_localities or ()), "files_in": r.files_in or 0,
         "complete": r.files_complete} for r in rows]})


@api.get("/panels/deliveries", summary="Waybills in exception or late")
async def deliveries(viewer: Operator, ctx: Ctx) -> DeliveriesPanel:
    async with ctx.sessionmaker() as session:
        model = ReadModel(session)
        rows = await model.exceptions(viewer)
        by_status = await model.waybill_status_counts(viewer)
    return DeliveriesPanel.model_validate({
        "exceptions": [
            {"waybill_number": r.waybill_number, "case_id": r.case_id, "flow": r.flow,
             "sender_locality": r.sender_locality, "receiver_locality": r.receiver_locality, "status": r.status,
             "exception": r.exception, "late": r.late, "reason": r.reason,
             "updated_at": utc(r.updated_at) if r.updated_at else None}
            for r in rows
        ],
        "by_status": by_status,
        "total": sum(by_status.values()),
    })


@api.get("/panels/agreements", summary="Agreements and their signatures")
async def agreements(viewer: Operator, ctx: Ctx) -> AgreementsPanel:
    async with ctx.sessionmaker() as session:
        found = await ReadModel(session).agreements(viewer)
    return AgreementsPanel.model_validate({"agreements": [
        {"agreement_id": a.agreement_id, "status": a.status, "parties": list(a.parties),
         "signed_parties": list(a.signed_parties), "unsigned_parties": list(a.unsigned_parties),
         "last_change": a.last_change, "last_party": a.last_party, "reason": a.reason,
         "updated_at": a.updated_at}
        for a in found
    ]})


@api.get("/panels/dead-letters", summary="Dead letters by reason and consumer group")
async def dead_letters(viewer: Operator, ctx: Ctx) -> DeadLettersPanel:
    async with ctx.sessionmaker() as session:
        rows = await ReadModel(session).dead_letter_counts(viewer)
    rows.sort(key=lambda r: (-r[2], r[0], r[1]))
    return DeadLettersPanel.model_validate({
        "total": sum(r[2] for r in rows),
        "reasons": [{"reason_class": c, "group": g, "count": n, "example": ex, "last_at": at}
                    for c, g, n, ex, at in rows],
    })


@api.get("/panels/lag", summary="Consumer lag per service and topic")
async def lag(viewer: Operator, ctx: Ctx) -> LagPanel:
    reader: LagReader = ctx.state["lag"]
    result = await reader.read()
    visible = set(viewer.visible(ctx.localities.codes))
    topic_of = {ctx.localities.topic(code): code for code in ctx.localities.codes}
    rows = [
        {"group": r.group, "service": r.group.removeprefix("tongban-"), "topic": r.topic,
         "locality": topic_of.get(r.topic), "lag": r.lag, "partitions": r.partitions, "committed": r.committed,
         "end": r.end}
        for r in result["rows"] if topic_of.get(r.topic) in visible
    ]
    return LagPanel.model_validate({"source": result["source"], "rows": rows, "error": result["error"],
                                    "at": result["at"], "age_seconds": round(time.time() - result["at"], 1)})


routers = [pages, api]
