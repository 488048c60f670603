"""The composition root: the four service definitions by name."""

from __future__ import annotations

import importlib

from shared.service import ServiceDefinition
from shared.settings import SERVICE_NAMES


def definition(name: str) -> ServiceDefinition:
    """The definition of the service ``name``."""
    if name not in SERVICE_NAMES:
        raise KeyError(f"unknown service {name!r}; one of {', '.join(SERVICE_NAMES)}")
    module = importlib.import_module(f"services.{name}.app")
    result: ServiceDefinition = module.DEFINITION
    return result
