"""REST API of the authorization service: client credentials of locality systems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.authorization.domain import Client, Role
from services.authorization.service import register_client
from services.authorization.store import ClientRepository
from shared.contracts.authorization import ClientRevoked
from shared.problems import Conflict, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/clients", tags=["clients"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]


class ClientRequest(BaseModel):
    """A locality system asking for credentials."""

    model_config = ConfigDict(extra="forbid")

    locality: str = Field(pattern=r"^\d{6}$")
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


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a locality system")
async def create_client(body: ClientRequest, uow: Uow, ctx: Ctx) -> IssuedClient:
    if body.locality not in ctx.localities:
        raise Problem(f"locality {body.locality} is not registered", status=422,
                      slug="unknown-locality", title="Unknown locality")
    async with uow:
        client, secret = await register_client(uow, body.locality, body.name, body.roles)
        await uow.commit()
    return IssuedClient(**ClientView.of(client).model_dump(), client_secret=secret)


@router.get("", summary="List clients")
async def list_clients(
    uow: Uow, locality: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None
) -> list[ClientView]:
    async with uow:
        return [ClientView.of(c) for c in await ClientRepository(uow.session).of_locality(locality)]


@router.post("/{client_id}/revoke", summary="Revoke a client")
async def revoke_client(client_id: str, uow: Uow) -> ClientView:
    async with uow:
        clients = ClientRepository(uow.session)
        client = await clients.get(client_id)
        if client is None:
            raise NotFound(f"no client {client_id}")
        if client.revoked:
            raise Conflict(f"client {client_id} is revoked already")
        await clients.revoke(client_id)
        uow.publish(ClientRevoked(client_id=client_id, locality=client.locality), [client.locality])
        await uow.commit()
    return ClientView.of(await _reload(uow, client_id))


async def _reload(uow: UnitOfWork, client_id: str) -> Client:
    async with uow:
        client = await ClientRepository(uow.session).get(client_id)
    assert client is not None
    return client
