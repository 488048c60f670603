"""The catalogue service as an application."""

from __future__ import annotations

from pathlib import Path

from services.catalogue import api, events, firstlist, store
from services.catalogue.api.transfer import MAX_UPLOAD
from shared.service import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="catalogue",
    title="Tongban catalogue",
    description="Items, business standards, procedures and windows of every locality; versioned lists; "
    "search in Chinese and English; import and export as CSV and XLSX.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=api.routers,
    streamed_bodies={"/v1/import": lambda _settings: MAX_UPLOAD + 65536},  # a file and its form's framing
    handlers=events.HANDLERS,
    on_startup=firstlist.on_startup,
)
