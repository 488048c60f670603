"""REST API of the authorization service: tokens, JWKS, client credentials, keys, audit."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.authorization.domain import ISSUER, Client, KeyStatus, Role, SigningKey
from services.authorization.service import (
    Keyring,
    TokenRefused,
    issue_token,
    register_client,
    sign_checkpoint,
    verify_audit_chain,
)
from services.authorization.store import AuditRepository, ClientRepository, KeyRepository
from shared.auth import Caller, authenticated, require
from shared.contracts.authorization import ClientRevoked
from shared.problems import PROBLEM_BASE, PROBLEM_JSON, Conflict, Forbidden, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
LOCALITY = r"^\d{6}$"

public = APIRouter(tags=["tokens"])
clients = APIRouter(prefix="/v1/clients", tags=["clients"])
keys = APIRouter(prefix="/v1", tags=["keys"])
audit = APIRouter(prefix="/v1/audit", tags=["audit"])


def keyring(ctx: ServiceContext) -> Keyring:
    """The service's keyring."""
    ring: Keyring = ctx.state["keyring"]
    return ring


def _own_locality(caller: Caller, locality: str) -> None:
    if caller.locality != locality:
        raise Forbidden(f"a client of {caller.locality} cannot act for locality {locality}")


# --------------------------------------------------------------------------- tokens and JWKS


@public.get("/.well-known/jwks.json", summary="Published signing keys (JWKS)")
async def jwks(uow: Uow) -> dict[str, Any]:
    async with uow:
        return await Keyring.jwks(uow.session)


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return client_id, secret


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
    responses={400: {"description": "invalid_request, unsupported_grant_type, invalid_scope"},
               401: {"description": "invalid_client"}},
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
    async with uow:
        audit_log = AuditRepository(uow.session)
        try:
            if grant_type != "client_credentials":
                raise TokenRefused("unsupported_grant_type", "only client_credentials is supported")
            if credentials is None:
                raise TokenRefused("invalid_client", "client authentication is required", 401)
            issued = await issue_token(uow.session, keyring(ctx), ctx.settings, credentials[0], credentials[1],
                                       scope, audience)
        except TokenRefused as exc:
            who = credentials[0][:64] if credentials else "anonymous"
            client = await ClientRepository(uow.session).get(who) if credentials else None
            audit_log.record(client.locality if client else "-", who, "token.refused", who, exc.error,
                             {"reason": exc.description})
            await uow.commit()
            return _token_error(exc)
        claims = issued.pop("_claims")
        audit_log.record(claims["locality"], claims["sub"], "token.issued", claims["jti"], "ok",
                         {"roles": claims["roles"], "aud": claims["aud"], "exp": claims["exp"]})
        await uow.commit()
    return JSONResponse(issued, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# --------------------------------------------------------------------------- clients


class ClientRequest(BaseModel):
    """A locality system asking for credentials."""

    model_config = ConfigDict(extra="forbid")

    locality: str = Field(pattern=LOCALITY)
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)


class ClientView(BaseModel):
    """A client, without its secret."""

    client_id: str
    locality: str
    name: str
    roles: list[Role]
    revoked: bool

    @classmethod
    def of(cls, client: Client) -> ClientView:
        """The view of a domain client."""
        return cls(client_id=client.client_id, locality=client.locality, name=client.name,
                   roles=list(client.roles), revoked=client.revoked)


class IssuedClient(ClientView):
    """A new client with its secret: shown once, stored only as a hash."""

    client_secret: str


Maintainer = Annotated[Caller, Depends(require(Role.MAINTAINER))]


@clients.post("", status_code=status.HTTP_201_CREATED, summary="Register a system of the caller's locality")
async def create_client(body: ClientRequest, uow: Uow, ctx: Ctx, caller: Maintainer) -> IssuedClient:
    if body.locality not in ctx.localities:
        raise Problem(f"locality {body.locality} is not registered", status=422,
                      slug="unknown-locality", title="Unknown locality")
    _own_locality(caller, body.locality)
    async with uow:
        client, secret = await register_client(uow, body.locality, body.name, body.roles)
        await uow.commit()
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


class KeyView(BaseModel):
    """A public signing key."""

    kid: str
    owner: str
    x: str
    status: KeyStatus
    created_at: int
    retired_at: int | None
    revoked_at: int | None

    @classmethod
    def of(cls, key: SigningKey) -> KeyView:
        """The view of a domain key."""
        return cls(**key.__dict__)


@keys.get("/keys", summary="Every signing key with its status")
async def list_keys(uow: Uow, _caller: Annotated[Caller, Depends(authenticated)]) -> list[KeyView]:
    async with uow:
        return [KeyView.of(k) for k in await KeyRepository(uow.session).all()]


@keys.post("/localities/{locality}/keys/rotate", summary="Rotate the caller's locality key")
async def rotate_key(locality: str, uow: Uow, ctx: Ctx, caller: Maintainer) -> list[KeyView]:
    if locality not in ctx.localities:
        raise NotFound(f"no locality {locality}")
    _own_locality(caller, locality)
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
    import time

    return int(time.time())


# --------------------------------------------------------------------------- audit

Auditor = Annotated[Caller, Depends(require(Role.SUPERVISOR, Role.MAINTAINER, Role.OPERATOR))]


@audit.get("/verify", summary="Verify the whole audit chain; name the first broken link")
async def verify(uow: Uow, _caller: Auditor) -> dict[str, Any]:
    async with uow:
        return await verify_audit_chain(uow.session)


@audit.get("/entries", summary="The caller's locality's audit entries")
async def entries(
    uow: Uow, caller: Auditor,
    after: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    async with uow:
        found = await AuditRepository(uow.session).chained(after, limit)
    return [e.__dict__ for e in found if e.locality == caller.locality]


@audit.post("/checkpoints", status_code=status.HTTP_201_CREATED, summary="Sign the chain's head now")
async def checkpoint(uow: Uow, ctx: Ctx, caller: Annotated[Caller, Depends(require(Role.SUPERVISOR,
                                                                                    Role.MAINTAINER))]
                     ) -> dict[str, Any]:
    async with uow:
        signed = await sign_checkpoint(uow.session, keyring(ctx), caller.locality)
        await uow.commit()
    return signed


routers = [public, clients, keys, audit]
