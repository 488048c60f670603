"""The routing service as an application."""

from __future__ import annotations

from pathlib import Path

from services.routing import api, events, store
from services.routing.authorization import AuthorizationClient
from shared.service import ServiceContext, ServiceDefinition


async def on_startup(ctx: ServiceContext) -> None:
    """Routing asks the authorization service about delegations."""
    ctx.state["authorization"] = AuthorizationClient(ctx.settings.authorization_base_url())


async def on_shutdown(ctx: ServiceContext) -> None:
    """Close the client."""
    await ctx.state["authorization"].close()


DEFINITION = ServiceDefinition(
    name="routing",
    title="Tongban routing",
    description="Cross-locality cases: accept here, handle there; life cycle and deadlines.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router],
    handlers=events.HANDLERS,
    on_startup=on_startup,
    on_shutdown=on_shutdown,
)
