"""Event handlers of the authorization service. It reacts to no other service's events yet."""

from __future__ import annotations

from shared.consumer import EventHandler

HANDLERS: dict[str, EventHandler] = {}
