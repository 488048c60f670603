"""Use cases of the authorization service that more than one entry point needs."""

from __future__ import annotations

from services.authorization.domain import Client, Role, hash_secret, new_client_id, new_client_secret
from services.authorization.store import ClientRepository
from shared.contracts.authorization import ClientRegistered
from shared.uow import UnitOfWork


async def register_client(
    uow: UnitOfWork, locality: str, name: str, roles: list[Role]
) -> tuple[Client, str]:
    """Register a locality system; returns the client and its secret (shown only now)."""
    client = Client(new_client_id(locality), locality, name, tuple(dict.fromkeys(roles)))
    secret = new_client_secret()
    await ClientRepository(uow.session).add(client, hash_secret(secret))
    uow.publish(
        ClientRegistered(client_id=client.client_id, locality=locality, roles=[r.value for r in client.roles]),
        [locality],
    )
    return client, secret
