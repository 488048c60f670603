"""The routing service as an application."""

from __future__ import annotations

from pathlib import Path

from services.routing import api, events, store
from shared.service import ServiceDefinition

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
)
