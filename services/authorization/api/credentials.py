"""Tokens and JWKS, client credentials, signing keys and the audit chain."""


from __future__ import annotations

import base64
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response, status
from fastapi.responses import JSONResponse

from services.authorization.api.common import Ctx, Maintainer, Uow, keyring, own_locality
from services.authorization.api.schemas import (
    AuditEntryView,
    AuditPage,
    ChainVerification,
    Checkpoint,
    ClientRequest,
    ClientView,
    IssuedClient,
    Jwks,
    KeyView,
    TokenResponse,
)
from services.authorization.domain import (
    ISSUER,
    KeyStatus,
    Role,
)
from services.authorization.service import (
    Keyring,
    TokenRefused,
    issue_token,
    register_client,
    sign_checkpoint,
    verify_audit_chain,
)
from services.authorization.store import (
    AuditRepository,
    ClientRepository,
    KeyRepository,
)
from services.authorization.throttling import attempts_of
from shared import clock
from shared.api_types import set_location
from shared.auth import REGIONAL_ROLES, Caller, authenticated, require
from shared.contracts.authorization import ClientRevoked
from shared.problems import PROBLEM_BASE, PROBLEM_JSON, Conflict, Forbidden, NotFound, Problem
from shared.throttle import Throttle, TooManyAttempts

public = APIRouter(tags=["tokens"])
clients = APIRouter(prefix="/v1/clients", tags=["clients"])
keys = APIRouter(prefix="/v1", tags=["keys"])
audit = APIRouter(prefix="/v1/audit", tags=["audit"])

# --------------------------------------------------------------------------- tokens and JWKS


@public.get("/.well-known/jwks.json", summary="Published signing keys (JWKS)")
async def jwks(uow: Uow) -> Jwks:
    async with uow:
        return Jwks.model_validate(await Keyring.jwks(uow.session))


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return client_id, secret


def _throttled(exc: TooManyAttempts) -> JSONResponse:
    return JSONResponse(
        {"type": PROBLEM_BASE + exc.slug, "title": exc.title, "status": exc.status, "detail": exc.detail,
         "error": "invalid_client", "error_description": exc.detail},
        status_code=exc.status, media_type=PROBLEM_JSON, headers={"Cache-Control": "no-store", **exc.headers},
    )


def _token_error(exc: TokenRefused) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="tongban"'
    return JSONResponse(
        {"type": PROBLEM_BASE + exc.error.replace("_", "-"), "title": exc.error, "status": exc.status,
         "detail": exc.description, "error": exc.error, "error_description": exc.description},
        status_code=exc.status, media_type=PROBLEM_JSON, headers=headers,
    )


@public.post(
    "/oauth/token",
    summary="Client credentials grant (RFC 6749, section 4.4)",
    response_model=TokenResponse,
    responses={400: {"description": "invalid_request, unsupported_grant_type, invalid_scope"},
               401: {"description": "invalid_client"},
               429: {"description": "too many failed attempts for the client id or from the address"}},
)
async def token(
    request: Request,
    uow: Uow,
    ctx: Ctx,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form(max_length=500)] = None,
    audience: Annotated[str | None, Form(max_length=500)] = None,
) -> JSONResponse:
    credentials = _basic(request) or ((client_id, client_secret) if client_id and client_secret else None)
    now = time.time()
    address = request.client.host if request.client else "-"
    throttle: Throttle = ctx.state["throttle"]
    who = credentials[0] if credentials else None
    async with uow:
        audit_log = AuditRepository(uow.session)
        try:
            await throttle.refuse_if_blocked(uow.session, attempts_of(ctx, who, address), now)
        except TooManyAttempts as exc:
            await uow.commit()
            return _throttled(exc)
        try:
            if grant_type != "client_credentials":
                raise TokenRefused("unsupported_grant_type", "only client_credentials is supported")
            if credentials is None:
                raise TokenRefused("invalid_client", "client authentication is required", 401)
            issued = await issue_token(uow.session, keyring(ctx), ctx.settings, credentials[0], credentials[1],
                                       scope, audience)
        except TokenRefused as exc:
            if exc.authenticated:  # the right secret: worth a line of its own
                audit_log.record(exc.locality or "-", who or "anonymous", "token.refused", who or "anonymous",
                                 exc.error, {"reason": exc.description})
            else:  # counted, and audited once per window (shared/throttle.py)
                await throttle.failed(uow.session, attempts_of(ctx, who, address, exc), now)
            await uow.commit()
            return _token_error(exc)
        claims = issued.pop("_claims")
        answer = TokenResponse.model_validate(issued).model_dump(mode="json")
        audit_log.record(claims["locality"], claims["sub"], "token.issued", claims["jti"], "ok",
                         {"roles": claims["roles"], "aud": claims["aud"], "exp": claims["exp"]})
        await uow.commit()
    return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# --------------------------------------------------------------------------- clients




@clients.post("", status_code=status.HTTP_201_CREATED, summary="Register a system of the caller's locality")
async def create_client(body: ClientRequest, uow: Uow, ctx: Ctx, caller: Maintainer, response: Response
                        ) -> IssuedClient:
    if body.locality not in ctx.localities:
        raise Problem(f"locality {body.locality} is not registered", status=422,
                      slug="unknown-locality", title="Unknown locality")
    own_locality(caller, body.locality)
    regional = sorted(r.value for r in body.roles if r in REGIONAL_ROLES)
    if regional:
        raise Forbidden(f"a locality's maintainer cannot grant the regional roles {', '.join(regional)}: the joint "
                        "office grants them with `tongban clients register`")
    async with uow:
        client, secret = await register_client(uow, body.locality, body.name, body.roles)
        await uow.commit()
    set_location(response, f"/v1/clients/{client.client_id}")
    return IssuedClient(**ClientView.of(client).model_dump(), client_secret=secret)


@clients.get("", summary="The clients of the caller's locality")
async def list_clients(uow: Uow, caller: Maintainer) -> list[ClientView]:
    async with uow:
        return [ClientView.of(c) for c in await ClientRepository(uow.session).of_locality(caller.locality)]


@clients.post("/{client_id}/revoke", summary="Revoke a client of the caller's locality")
async def revoke_client(client_id: str, uow: Uow, caller: Maintainer) -> ClientView:
    async with uow:
        repo = ClientRepository(uow.session)
        client = await repo.get(client_id)
        if client is None or client.locality != caller.locality:
            raise NotFound(f"no client {client_id} in locality {caller.locality}")
        if client.revoked:
            raise Conflict(f"client {client_id} is revoked already")
        await repo.revoke(client_id)
        uow.publish(ClientRevoked(client_id=client_id, locality=client.locality), [client.locality])
        AuditRepository(uow.session).record(caller.locality, caller.client_id, "client.revoked", client_id, "ok", {})
        await uow.commit()
        revoked = await repo.get(client_id)
    assert revoked is not None
    return ClientView.of(revoked)


# --------------------------------------------------------------------------- keys


@keys.get("/keys", summary="Every signing key with its status")
async def list_keys(uow: Uow, _caller: Annotated[Caller, Depends(authenticated)]) -> list[KeyView]:
    async with uow:
        return [KeyView.of(k) for k in await KeyRepository(uow.session).all()]


@keys.post("/localities/{locality}/keys/rotate", summary="Rotate the caller's locality key")
async def rotate_key(locality: str, uow: Uow, ctx: Ctx, caller: Maintainer) -> list[KeyView]:
    if locality not in ctx.localities:
        raise NotFound(f"no locality {locality}")
    own_locality(caller, locality)
    async with uow:
        new, retired = await keyring(ctx).rotate(uow.session, locality)
        AuditRepository(uow.session).record(locality, caller.client_id, "key.rotated", new.kid, "ok",
                                            {"retired": retired.kid if retired else None})
        await uow.commit()
    return [KeyView.of(k) for k in (new, retired) if k is not None]


@keys.post("/keys/{kid}/revoke", summary="Revoke a key of the caller's locality")
async def revoke_key(kid: str, uow: Uow, caller: Maintainer) -> KeyView:
    async with uow:
        repo = KeyRepository(uow.session)
        key = await repo.get(kid)
        if key is None or key.owner != caller.locality:
            raise NotFound(f"no key {kid} of locality {caller.locality}")
        if key.owner == ISSUER:
            raise Forbidden("the token issuer's keys are rotated by operators, not through this endpoint")
        try:
            revoked = key.revoke(_now())
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        if key.status is KeyStatus.ACTIVE:
            raise Conflict(f"key {kid} is active; rotate it first, then revoke the retired key")
        await repo.save(revoked)
        AuditRepository(uow.session).record(caller.locality, caller.client_id, "key.revoked", kid, "ok", {})
        await uow.commit()
    return KeyView.of(revoked)


def _now() -> int:
    return int(clock.current().time())


# --------------------------------------------------------------------------- audit

Auditor = Annotated[Caller, Depends(require(Role.SUPERVISOR, Role.MAINTAINER, Role.OPERATOR))]


@audit.get("/verify", summary="Verify the whole audit chain; name the first broken link")
async def verify(uow: Uow, _caller: Auditor) -> ChainVerification:
    async with uow:
        return ChainVerification.model_validate(await verify_audit_chain(uow.session))


@audit.get("/entries", summary="The caller's locality's audit entries, a page at a time")
async def entries(
    uow: Uow, caller: Auditor,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$", description="`next_cursor` of the page before.")] = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="Entries after this sequence number "
                                "(the first page; `cursor` goes on from a page).")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    start = int(cursor) if cursor is not None else after
    async with uow:
        found = await AuditRepository(uow.session).chained(start, limit)
    # The cursor walks the whole chain (a page may hold none of the caller's entries, and then says where to go on).
    next_cursor = str(found[-1].seq) if len(found) == limit else None
    mine = [AuditEntryView.model_validate(e.__dict__) for e in found if e.locality == caller.locality]
    return AuditPage(entries=mine, next_cursor=next_cursor)


@audit.post("/checkpoints", status_code=status.HTTP_201_CREATED, summary="Sign the chain's head now")
async def checkpoint(uow: Uow, ctx: Ctx, response: Response,
                     caller: Annotated[Caller, Depends(require(Role.SUPERVISOR, Role.MAINTAINER))]) -> Checkpoint:
    async with uow:
        signed = await sign_checkpoint(uow.session, keyring(ctx), caller.locality)
        await uow.commit()
    set_location(response, f"/v1/audit/entries?after={max(signed['seq'] - 1, 0)}&limit=1")
    return Checkpoint.model_validate(signed)


