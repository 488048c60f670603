"""The embedded system: the four services in one process, on one in-process bus, on SQLite."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from shared.bus import MemoryBus
from shared.service import create_app
from shared.settings import SERVICE_NAMES, Settings
from tongban.registry import definition


def build_apps(settings: Settings, bus: MemoryBus) -> dict[str, FastAPI]:
    """One application per service, all on ``bus``."""
    return {name: create_app(definition(name), settings, bus=bus) for name in SERVICE_NAMES}


async def bootstrap_credentials(app: FastAPI, settings: Settings) -> list[dict[str, object]]:
    """Credentials for each locality's system: created at first start, kept under the data folder."""
    from services.authorization.service import bootstrap_clients

    path = settings.data_dir / "credentials.json"
    if path.exists():
        stored: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
        return stored
    async with app.state.ctx.uow() as uow:
        issued = await bootstrap_clients(uow)
        await uow.commit()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(issued, handle, ensure_ascii=False, indent=2)
    return list(issued)


async def run_embedded(settings: Settings) -> None:
    """Serve the four services until interrupted."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    bus = MemoryBus()
    apps = build_apps(settings, bus)
    servers = [
        uvicorn.Server(
            uvicorn.Config(app, host=settings.host, port=settings.default_port(name), log_config=None,
                           access_log=False, lifespan="on")
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
    print_banner(settings, credentials)
    await asyncio.gather(*tasks)


def print_banner(settings: Settings, credentials: list[dict[str, object]]) -> None:
    """Tell the operator where everything is."""
    lines = ["", "Tongban is running (embedded: SQLite under "
             f"{Path(settings.data_dir).resolve()}, in-process bus)", ""]
    for name in SERVICE_NAMES:
        lines.append(f"  {name:<14} http://{settings.host}:{settings.default_port(name)}/docs")
    lines += ["", "Credentials of the locality systems (also in "
              f"{settings.data_dir / 'credentials.json'}):"]
    for c in credentials:
        lines.append(f"  {c['locality']} {c['name']}: client_id={c['client_id']} client_secret={c['client_secret']}")
    lines.append("")
    print("\n".join(lines), flush=True)
