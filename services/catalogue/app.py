"""The catalogue service as an application."""

from __future__ import annotations

from pathlib import Path

from services.catalogue import api, events, store
from shared.service import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="catalogue",
    title="Tongban catalogue",
    description="Items, business standards, procedures and windows of every locality.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router],
    handlers=events.HANDLERS,
)
