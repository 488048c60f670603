"""The composition root: the service definitions by name (the four services and the dashboard)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from shared.service import ServiceDefinition
from shared.settings import SERVICE_NAMES

APPLICATION_NAMES: tuple[str, ...] = (*SERVICE_NAMES, "dashboard")
"""What ``tongban serve`` runs: the four services and the operators' dashboard."""


CONSUMERS_FILE = Path(__file__).with_name("event_consumers.json")
"""What :func:`event_consumers` answers, written down: one service process reads it instead of
importing every other service's code for its AsyncAPI document (about 40 MB more per process).
``python -m tongban.registry`` writes it; a unit test fails when it is stale."""


def event_consumers() -> dict[str, set[str]]:
    """Which event types each application handles (``*``: every type), for the AsyncAPI document."""
    return {name: set(definition(name).handlers) for name in APPLICATION_NAMES}


def declared_consumers() -> dict[str, set[str]]:
    """:func:`event_consumers` as written in ``event_consumers.json``, without importing the services."""
    document = json.loads(CONSUMERS_FILE.read_text(encoding="utf-8"))
    return {name: set(types) for name, types in document.items()}


def write_consumers() -> None:
    """Write ``event_consumers.json`` from the services' definitions."""
    mapping = {name: sorted(types) for name, types in event_consumers().items()}
    CONSUMERS_FILE.write_text(json.dumps(mapping, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def definition(name: str) -> ServiceDefinition:
    """The definition of the service (or the dashboard) ``name``."""
    if name not in APPLICATION_NAMES:
        raise KeyError(f"unknown service {name!r}; one of {', '.join(APPLICATION_NAMES)}")
    module = importlib.import_module(f"services.{name}.app")
    result: ServiceDefinition = module.DEFINITION
    return result


if __name__ == "__main__":
    write_consumers()
    sys.exit(0)
