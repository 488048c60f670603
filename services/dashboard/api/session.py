"""Log in with an operator's client credentials, who is logged in, log out; the page's metadata."""


from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Literal

import httpx
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.dashboard.api.common import (
    COOKIE,
    SESSION_LIFETIME,
    AuthorizationUnavailable,
    Ctx,
    LoginRefused,
    Operator,
)
from services.dashboard.api.schemas import (
    LocalityName,
    Meta,
)
from services.dashboard.domain import (
    FUNNEL,
    LOCALITY_ROLE,
    REGIONAL_ROLE,
    Viewer,
    session_digest,
    viewer_of,
)
from services.dashboard.store import login_failures
from services.dashboard.store_read_model import ReadModel
from shared.auth import InsufficientRole, Unauthenticated
from shared.service import ServiceContext
from shared.settings import AUDIENCES
from shared.throttle import Attempt, Throttle, TooManyAttempts

router = APIRouter(prefix="/api", tags=["dashboard"])


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


@router.post("/session", summary="Log in with an operator's client credentials",
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


@router.get("/session", summary="The operator logged in")
async def whoami(viewer: Operator, ctx: Ctx) -> SessionView:
    return _session_view(ctx, viewer)


@router.delete("/session", status_code=204, summary="Log out")
async def logout(request: Request, ctx: Ctx, _viewer: Operator) -> Response:
    async with ctx.sessionmaker() as session:
        await ReadModel(session).end_session(session_digest(request.cookies[COOKIE]))
        await session.commit()
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure_cookie(ctx, request))
    return response


@router.get("/meta", summary="Localities and the statuses of the life cycle, for the page")
async def meta(_viewer: Operator, ctx: Ctx) -> Meta:
    return Meta(
        localities=[LocalityName(code=loc.code, name_zh=loc.name_zh, name_en=loc.name_en) for loc in ctx.localities],
        statuses=list(FUNNEL),
        lag_source="memory" if ctx.state["lag"].source == "memory" else "kafka",
    )
