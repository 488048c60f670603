"""The dashboard's service layer: an operator's session, from client credentials to the cookie's id.

Logging in asks the authorization service for a token with the operator role (or the regional one)
for the dashboard's audience, throttled per client id and source address like the token endpoint,
verifies it, and keeps only the SHA-256 of the session's random id. Everything the panels show is
folded by ``events.py`` into the read model and read by ``api/`` through ``store_read_model.py``.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

import httpx

from services.dashboard.domain import LOCALITY_ROLE, REGIONAL_ROLE, Viewer, session_digest, viewer_of
from services.dashboard.store import login_failures
from services.dashboard.store_read_model import ReadModel
from shared.auth import InsufficientRole, Unauthenticated
from shared.problems import Problem
from shared.service import ServiceContext
from shared.settings import AUDIENCES
from shared.throttle import Attempt, Throttle, TooManyAttempts

SESSION_LIFETIME = timedelta(hours=8)


class LoginRefused(Problem):
    """Wrong client credentials: 401."""

    status, slug, title = 401, "invalid-credentials", "Invalid credentials"


class AuthorizationUnavailable(Problem):
    """The authorization service could not be asked: 503."""

    status, slug, title = 503, "authorization-unavailable", "Authorization service unavailable"


async def _token(ctx: ServiceContext, client_id: str, client_secret: str, regional: bool) -> str:
    scope = REGIONAL_ROLE if regional else LOCALITY_ROLE
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
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
        needed = f"the {REGIONAL_ROLE} role" if regional else f"the {LOCALITY_ROLE} role"
        raise InsufficientRole(f"this client does not hold {needed}")
    raise AuthorizationUnavailable(f"the authorization service answered {answer.status_code}")


async def operator_token(ctx: ServiceContext, client_id: str, client_secret: str, regional: bool,
                         address: str) -> str:
    """A token for the credentials, unless the client id or the address failed too often (429)."""
    throttle = Throttle(login_failures, ctx.settings.throttle_window_seconds)
    attempts = [Attempt("client:" + client_id, ctx.settings.throttle_client_failures, audit=False),
                Attempt("address:" + address[:100], ctx.settings.throttle_address_failures, audit=False)]
    now = time.time()
    async with ctx.sessionmaker() as session:
        try:
            await throttle.refuse_if_blocked(session, attempts, now)
        finally:
            await session.commit()
    try:
        return await _token(ctx, client_id, client_secret, regional)
    except LoginRefused:
        async with ctx.sessionmaker() as session:
            await throttle.failed(session, attempts, now)
            await throttle.purge(session, now)
            await session.commit()
        raise


async def open_session(ctx: ServiceContext, client_id: str, client_secret: str, regional: bool,
                       address: str) -> tuple[str, Viewer]:
    """Log an operator in: the new session's id (for the cookie; only its digest is kept) and who it is."""
    token = await operator_token(ctx, client_id, client_secret, regional, address)
    try:
        caller = await ctx.verifier.verify(token)
    except Unauthenticated as exc:
        raise LoginRefused(f"the token does not verify: {exc.detail}") from exc
    try:
        viewer = viewer_of(caller.client_id, caller.locality, caller.roles, regional)
    except PermissionError as exc:
        raise InsufficientRole(str(exc)) from exc
    session_id = secrets.token_urlsafe(32)
    async with ctx.sessionmaker() as session:
        await ReadModel(session).add_session(session_digest(session_id), viewer, datetime.now(UTC), SESSION_LIFETIME)
        await session.commit()
    return session_id, viewer


async def session_viewer(ctx: ServiceContext, session_id: str) -> Viewer | None:
    """The operator of a session that has not ended."""
    async with ctx.sessionmaker() as session:
        return await ReadModel(session).viewer(session_digest(session_id), datetime.now(UTC))


async def end_session(ctx: ServiceContext, session_id: str) -> None:
    """Log out."""
    async with ctx.sessionmaker() as session:
        await ReadModel(session).end_session(session_digest(session_id))
        await session.commit()
