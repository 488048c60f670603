"""The authorization service as an application."""

from __future__ import annotations

from pathlib import Path

from services.authorization import api, events, store
from shared.service import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="authorization",
    title="Tongban authorization",
    description="Trust between localities: keys, agreements, delegations, attestations, consents, "
    "credentials for locality systems, and a tamper-evident audit log.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router],
    handlers=events.HANDLERS,
)
