"""The composition root: the service definitions by name (the four services and the dashboard)."""

from __future__ import annotations

import importlib

from shared.service import ServiceDefinition
from shared.settings import SERVICE_NAMES

APPLICATION_NAMES: tuple[str, ...] = (*SERVICE_NAMES, "dashboard")
"""What ``tongban serve`` runs: the four services and the operators' dashboard."""


def event_consumers() -> dict[str, set[str]]:
    """Which event types each application handles (``*``: every type), for the AsyncAPI document."""
    return {name: set(definition(name).handlers) for name in APPLICATION_NAMES}


def definition(name: str) -> ServiceDefinition:
    """The definition of the service (or the dashboard) ``name``."""
    if name not in APPLICATION_NAMES:
        raise KeyError(f"unknown service {name!r}; one of {', '.join(APPLICATION_NAMES)}")
    module = importlib.import_module(f"services.{name}.app")
    result: ServiceDefinition = module.DEFINITION
    return result
