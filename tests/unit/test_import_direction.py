"""The direction of imports that keeps every service one shape (docs/architecture.md).

Read from the source with ``ast`` (no module is imported), every import anywhere in a module, also
one inside a function:

- a ``domain/`` module imports no framework or driver (FastAPI, Starlette, SQLAlchemy, httpx,
  aiokafka) and none of its service's outer layers (``api``, ``store``, ``events``, ``service``, ``app``);
- no service imports another service;
- ``shared/`` imports no service;
- ``bench/`` imports nothing of ``tests/`` (what both use is in ``tongban/testbed``).

Each rule is also shown to catch a module that breaks it (``BROKEN``), so the test cannot pass by
reading nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("fastapi", "starlette", "sqlalchemy", "httpx", "aiokafka")
OUTER_LAYERS = ("api", "store", "events", "service", "app")
"""A service's layers outside its domain; ``store_*`` and ``service_*`` modules count as theirs."""


def imported(source: str, module: str) -> list[str]:
    """Every module name ``source`` (the module ``module``) imports; ``from a import b`` names ``a`` and ``a.b``."""
    package = module.rsplit(".", 1)[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the module's package
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return names


def module_name(path: str) -> str:
    """``services/routing/domain/cases.py`` → ``services.routing.domain.cases`` (a package's ``__init__`` → it)."""
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_outer_layer(name: str, service: str) -> bool:
    parts = name.split(".")
    if parts[:2] != ["services", service] or len(parts) < 3:
        return False
    layer = parts[2]
    return layer in OUTER_LAYERS or layer.startswith(("store_", "service_"))


def violations(path: str, source: str) -> list[str]:
    """What the module at ``path`` (relative to the repository) imports against the rules."""
    name = module_name(path)
    if path.endswith("/__init__.py"):
        name += ".__init__"  # relative imports of a package's __init__ resolve against the package itself
    found: list[str] = []
    parts = path.split("/")
    for target in imported(source, name):
        top = target.split(".")
        if parts[0] == "services" and len(parts) > 2:
            service = parts[1]
            if top[0] == "services" and len(top) > 1 and top[1] != service:
                found.append(f"{path}: service {service} imports another service ({target})")
            if "domain" in parts[2:-1] or parts[2] == "domain.py":
                if top[0] in FRAMEWORKS:
                    found.append(f"{path}: a domain module imports {top[0]} ({target})")
                if _is_outer_layer(target, service):
                    found.append(f"{path}: a domain module imports an outer layer ({target})")
        if parts[0] == "shared" and top[0] == "services":
            found.append(f"{path}: shared imports a service ({target})")
        if parts[0] == "bench" and top[0] == "tests":
            found.append(f"{path}: bench imports the tests ({target})")
    return sorted(set(found))


def modules() -> list[Path]:
    """Every Python module of the services, shared/ and bench/ (migrations included: they are code too)."""
    return sorted(p for folder in ("services", "shared", "bench") for p in (REPO / folder).rglob("*.py"))


def test_the_tree_is_read() -> None:
    paths = {p.relative_to(REPO).as_posix() for p in modules()}
    services = {p.split("/")[1] for p in paths if p.startswith("services/") and p.count("/") > 1}
    assert services == {"authorization", "catalogue", "dashboard", "delivery", "routing", "webhooks"}
    for service in services:  # one shape: domain/, a service layer, api/, store, events, app
        for part in ("domain/__init__.py", "service.py", "api/__init__.py", "store.py", "events.py", "app.py"):
            assert f"services/{service}/{part}" in paths, f"services/{service}/{part}"
    domain = [p for p in paths if "/domain/" in p]
    assert len(domain) > 25
    assert any(p.startswith("shared/") for p in paths) and any(p.startswith("bench/") for p in paths)


def test_every_module_keeps_the_direction_of_imports() -> None:
    found = [v for p in modules() for v in violations(p.relative_to(REPO).as_posix(), p.read_text())]
    assert not found, "\n".join(found)


BROKEN = [
    ("services/routing/domain/cases.py", "from fastapi import APIRouter"),
    ("services/delivery/domain/waybills.py", "import sqlalchemy.orm"),
    ("services/catalogue/domain/items.py", "from starlette.requests import Request"),
    ("services/webhooks/domain/endpoints.py", "def resolve():\n    import httpx\n    return httpx"),
    ("services/dashboard/domain/records.py", "from aiokafka import AIOKafkaConsumer"),
    ("services/catalogue/domain/items.py", "from services.catalogue.store import ItemRepository"),
    ("services/catalogue/domain/items.py", "from services.catalogue.store_lists import ListRepository"),
    ("services/catalogue/domain/items.py", "from services.catalogue import api"),
    ("services/routing/domain/cases.py", "from ..service import transition"),
    ("services/routing/domain/__init__.py", "from ..events import HANDLERS"),
    ("services/delivery/domain/postal.py", "from services.delivery.events import HANDLERS"),
    ("services/authorization/domain/agreements.py", "from services.authorization.app import DEFINITION"),
    ("services/routing/service.py", "from services.delivery.domain import Waybill"),
    ("services/dashboard/events.py", "import services.routing.domain"),
    ("shared/consumer.py", "from services.routing.domain import Case"),
    ("bench/run.py", "from tests.support.contract import TYPED_SERVICES"),
]


@pytest.mark.parametrize(("path", "source"), BROKEN, ids=[f"{p}: {s.splitlines()[0]}" for p, s in BROKEN])
def test_a_module_that_breaks_a_rule_is_caught(path: str, source: str) -> None:
    assert violations(path, source), f"{path} importing {source!r} passed"


ALLOWED = [
    ("services/routing/domain/files.py", "from services.routing.domain import Case"),
    ("services/routing/domain/cases.py", "from .identifiers import applicant_digest"),
    ("services/routing/domain/cases.py", "from shared.contracts.routing import CaseSubmitted"),
    ("services/routing/api/cases.py", "from fastapi import APIRouter\nfrom services.routing.store import Cases"),
    ("services/routing/store.py", "from sqlalchemy import select\nfrom services.routing.domain import Case"),
    ("shared/service.py", "from fastapi import FastAPI"),
    ("bench/run.py", "from tongban.testbed.infra import KafkaBroker"),
]


@pytest.mark.parametrize(("path", "source"), ALLOWED, ids=[f"{p}: {s.splitlines()[0]}" for p, s in ALLOWED])
def test_what_the_rules_allow_passes(path: str, source: str) -> None:
    assert violations(path, source) == []
