"""The embedded system: the four services and the dashboard in one process, on one in-process bus, on SQLite."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from shared.bus import MemoryBus
from shared.db import secure_data_dir
from shared.service import create_app
from shared.settings import SERVICE_NAMES, Settings
from shared.uow import UnitOfWork
from tongban.registry import APPLICATION_NAMES, definition, event_consumers


def build_apps(settings: Settings, bus: MemoryBus) -> dict[str, FastAPI]:
    """One application per service, and the dashboard, all on ``bus``."""
    consumers = event_consumers()
    return {name: create_app(definition(name), settings, bus=bus, event_consumers=consumers)
            for name in APPLICATION_NAMES}


async def _issued_once(app: FastAPI, settings: Settings, name: str,
                       issue: Callable[[UnitOfWork], Awaitable[Any]]) -> Any:
    """Credentials issued at first start and kept in the data folder (mode 0600); read back at later starts."""
    path = settings.data_dir / name
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    async with app.state.ctx.uow() as uow:
        issued = await issue(uow)
        await uow.commit()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(issued, handle, ensure_ascii=False, indent=2)
    return issued


async def bootstrap_credentials(app: FastAPI, settings: Settings) -> list[dict[str, object]]:
    """Credentials for each locality's system: created at first start, kept under the data folder."""
    from services.authorization.service import bootstrap_clients

    stored: list[dict[str, object]] = await _issued_once(app, settings, "credentials.json", bootstrap_clients)
    return list(stored)


async def bootstrap_regional_office(app: FastAPI, settings: Settings) -> dict[str, object]:
    """The joint office's client of the demonstration (regional catalogue, calendar and dashboard view).

    Only in the embedded system, once, kept apart from the localities' clients in
    ``regional-credentials.json``: no locality's client holds a regional role. In production the
    joint office registers its clients with ``tongban clients register --regional``.
    """
    from services.authorization.service import register_regional_office

    stored: dict[str, object] = await _issued_once(app, settings, "regional-credentials.json",
                                                   register_regional_office)
    return stored


async def seed_demo_agreement(app: FastAPI) -> str | None:
    """The first cooperation agreement, signed by each of the four localities with its own key.

    Only in the embedded system, only once; its text is illustrative, not the official one.
    """
    from services.authorization.domain import Agreement, Permission, canonical_sha256
    from services.authorization.store import AgreementRepository
    from services.authorization.trust import draft_agreement, sign_agreement

    ctx = app.state.ctx
    codes = ["310110", "320505", "331000", "341600"]
    async with ctx.uow() as uow:
        if await AgreementRepository(uow.session).involving(codes[0]):
            return None
        modes = ("fully_online", "accepted_here_handled_there", "joint_handling")
        agreement = Agreement(
            id="agr-yrd-2021-first-list",
            title="长三角“跨省通办”合作协议（杨浦·苏州高新·台州·亳州）— 示范文本 / demonstration text",
            text="四地共同推进72项事项跨省通办：梳理事项清单、明确业务标准、制定办理流程、设立办理窗口、"
            "建立授权信任、畅通邮寄渠道。（示范文本，非官方协议原文 / illustrative, not the official text）",
            parties=tuple(codes),
            items=(),
            areas=("market_supervision", "social_security", "medical_insurance", "archive_query"),
            permissions=tuple(Permission(a, o, modes) for a in codes for o in codes if a != o),
            valid_from=datetime(2021, 4, 20, tzinfo=UTC),
            valid_until=datetime(2031, 4, 20, tzinfo=UTC),
            drafted_by=codes[0],
        )
        await draft_agreement(uow, agreement, "bootstrap")
        await uow.commit()
    for code in codes:
        async with ctx.uow() as uow:
            await sign_agreement(uow, ctx.state["keyring"], agreement.id, code, "bootstrap",
                                 canonical_sha256(agreement))
            await uow.commit()
    return agreement.id


async def publish_first_list(app: FastAPI) -> bool:
    """Publish the shipped first list (loaded as a draft) so that the demonstration can take cases.

    Only in the embedded system, only once, inside the catalogue (no token: the embedded system acts for
    the joint office here); in production a client of the joint office (``regional_catalogue``) publishes it.
    """
    from services.catalogue.service import publish_list_version
    from services.catalogue.store_lists import ListRepository

    async with app.state.ctx.uow() as uow:
        draft = await ListRepository(uow.session).get("yrd-first-list.v1")
        if draft is None or draft.status != "draft":
            return False
        await publish_list_version(uow, draft)
        await uow.commit()
    return True


async def run_embedded(settings: Settings) -> None:
    """Serve the four services until interrupted."""
    secure_data_dir(settings.data_dir)  # 0700, and 0600 for what is in it (also in older installations)
    bus = MemoryBus()
    apps = build_apps(settings, bus)
    servers = [
        uvicorn.Server(
            uvicorn.Config(app, host=settings.host, port=settings.default_port(name), log_config=None,
                           access_log=False, lifespan="on",
                           # the dashboard's live streams never end by themselves: close them after a moment
                           timeout_graceful_shutdown=3 if name == "dashboard" else None)
        )
        for name, app in apps.items()
    ]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            for t in tasks:
                t.cancel()
            raise SystemExit("a service failed to start (is its port in use?)")
        await asyncio.sleep(0.05)
    credentials = await bootstrap_credentials(apps["authorization"], settings)
    regional = await bootstrap_regional_office(apps["authorization"], settings)
    await seed_demo_agreement(apps["authorization"])
    await publish_first_list(apps["catalogue"])
    print_banner(settings, credentials, regional)
    await asyncio.gather(*tasks)


def print_banner(settings: Settings, credentials: list[dict[str, object]], regional: dict[str, object]) -> None:
    """Tell the operator where everything is."""
    lines = ["", "Tongban is running (embedded: SQLite under "
             f"{Path(settings.data_dir).resolve()}, in-process bus)", ""]
    for name in SERVICE_NAMES:
        lines.append(f"  {name:<14} http://{settings.host}:{settings.default_port(name)}/docs")
    lines += ["", f"  Dashboard      http://{settings.host}:{settings.default_port('dashboard')}/  "
              "(log in with a locality's client_id and client_secret below)"]
    lines += ["", "Credentials of the locality systems (also in "
              f"{settings.data_dir / 'credentials.json'}):"]
    for c in credentials:
        lines.append(f"  {c['locality']} {c['name']}: client_id={c['client_id']} client_secret={c['client_secret']}")
    roles = regional["roles"]
    lines += ["", f"The joint office's client, roles {' '.join(roles) if isinstance(roles, list) else roles} (also in "
              f"{settings.data_dir / 'regional-credentials.json'}):",
              f"  client_id={regional['client_id']} client_secret={regional['client_secret']}", ""]
    print("\n".join(lines), flush=True)
