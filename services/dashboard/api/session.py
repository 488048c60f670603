"""Log in with an operator's client credentials, who is logged in, log out; the page's metadata."""


from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.dashboard.api.common import (
    COOKIE,
    Ctx,
    Operator,
)
from services.dashboard.api.schemas import (
    LocalityName,
    Meta,
)
from services.dashboard.domain import (
    FUNNEL,
    Viewer,
)
from services.dashboard.service import SESSION_LIFETIME, end_session, open_session
from shared.service import ServiceContext

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


def _secure_cookie(ctx: ServiceContext, request: Request) -> bool:
    """Production sessions travel only over HTTPS, whatever scheme a proxy in front reports to us."""
    return ctx.settings.production or request.url.scheme == "https"


@router.post("/session", summary="Log in with an operator's client credentials",
          responses={401: {"description": "unknown client or wrong secret"},
                     403: {"description": "the client does not hold the operator role (or the regional one)"},
                     429: {"description": "too many failed logins for the client id or from the address"}})
async def login(body: Login, request: Request, response: Response, ctx: Ctx) -> SessionView:
    session_id, viewer = await open_session(ctx, body.client_id, body.client_secret, body.view == "regional",
                                            request.client.host if request.client else "-")
    response.set_cookie(COOKIE, session_id, max_age=int(SESSION_LIFETIME.total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=_secure_cookie(ctx, request))
    response.headers["Cache-Control"] = "no-store"
    return _session_view(ctx, viewer)


@router.get("/session", summary="The operator logged in")
async def whoami(viewer: Operator, ctx: Ctx) -> SessionView:
    return _session_view(ctx, viewer)


@router.delete("/session", status_code=204, summary="Log out")
async def logout(request: Request, ctx: Ctx, _viewer: Operator) -> Response:
    await end_session(ctx, request.cookies[COOKIE])
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
