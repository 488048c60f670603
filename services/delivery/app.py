"""The delivery service as an application."""

from __future__ import annotations

from pathlib import Path

from services.delivery import api, events, store
from shared.service import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="delivery",
    title="Tongban delivery",
    description="Postal waybills and carrier tracking for materials and results.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router],
    handlers=events.HANDLERS,
)
