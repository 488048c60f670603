"""The first list, shipped as data (``data/first_list.json``) and loaded at start.

The load is idempotent: it runs only when the list version of the data file is missing from the
database, and it never overwrites an item, area or window that is already there. The list loads
as a **draft**: a maintainer publishes it (``POST /v1/lists/yrd-first-list.v1/publish``), which
publishes its items and announces them and the list to every locality.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.catalogue.domain.items import Item
from services.catalogue.domain.lists import CatalogueList, ListEntry
from services.catalogue.domain.standards import Procedure, ProcedureStep, Standard, Window, headline_days
from services.catalogue.service import save_item
from services.catalogue.store import Area, ItemRepository
from services.catalogue.store_lists import ListRepository
from services.catalogue.store_standards import AreaRepository, WindowRepository
from shared.service import ServiceContext
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.catalogue")

FIRST_LIST = Path(__file__).parent / "data" / "first_list.json"


@dataclass(frozen=True)
class ListData:
    """A list as shipped in a data file: areas, items with standards and procedures, windows, the list."""

    areas: tuple[Area, ...]
    items: tuple[tuple[Item, tuple[Standard, ...], tuple[Procedure, ...]], ...]
    windows: tuple[Window, ...]
    catalogue_list: CatalogueList


def parse(document: dict[str, Any]) -> ListData:
    """The content of a data file; ValueError (or the domain's InvalidContent) if it breaks a rule."""
    if document.get("format") != 1:
        raise ValueError(f"unknown data file format {document.get('format')!r}")
    areas = tuple(Area(a["key"], a["name_zh"], a["name_en"], a.get("aliases", [])) for a in document["areas"])
    items = []
    for raw in document["items"]:
        standards = tuple(Standard.of(raw["code"], loc, s) for loc, s in sorted(raw["standards"].items()))
        procedures = tuple(
            Procedure(raw["code"], mode, tuple(ProcedureStep(**step) for step in p["steps"]),
                      bool(p.get("illustrative", False)))
            for mode, p in raw.get("procedures", {}).items()
        )
        item = Item(
            code=raw["code"], name_zh=raw["name_zh"], name_en=raw["name_en"], area=raw["area"],
            modes=tuple(raw["modes"]), ownership_rule=raw["ownership_rule"],
            committed_days=headline_days(standards, int(raw.get("committed_days", 0))),
            keywords=tuple(raw.get("keywords", ())), illustrative=bool(raw.get("illustrative", False)),
        )
        unsupported = [p.mode for p in procedures if p.mode not in item.modes]
        if unsupported:
            raise ValueError(f"item {item.code} has a procedure for the unsupported mode {unsupported[0]}")
        items.append((item, standards, procedures))
    windows = tuple(
        Window(id=w["id"], locality=w["locality"], name_zh=w["name_zh"], name_en=w["name_en"],
               address=w["address"], hours=w["hours"], phone=w["phone"], item_codes=tuple(w["item_codes"]),
               illustrative=bool(w.get("illustrative", False)))
        for w in document["windows"]
    )
    meta = document["list"]
    catalogue_list = CatalogueList(
        slug=meta["slug"], version=int(meta["version"]), name_zh=meta["name_zh"], name_en=meta["name_en"],
        entries=tuple(ListEntry(i.code) for i, _s, _p in items),
        announced_on=date.fromisoformat(meta["announced_on"]) if meta.get("announced_on") else None,
        provenance=meta.get("provenance", ""),
    )
    return ListData(areas, tuple(items), windows, catalogue_list)


def read(path: Path = FIRST_LIST) -> ListData:
    """Read and check a data file."""
    return parse(json.loads(path.read_text(encoding="utf-8")))


async def load(ctx: ServiceContext, data: ListData) -> bool:
    """Load a shipped list unless its version is already in the database; whether it loaded."""
    for _attempt in range(3):
        try:
            async with ctx.uow() as uow:
                if await ListRepository(uow.session).get(data.catalogue_list.id) is not None:
                    return False
                await _load(uow, ctx, data)
                await uow.commit()
        except IntegrityError:
            continue  # another replica loaded it at the same moment: look again
        log.info("list loaded", extra={"list": data.catalogue_list.id, "items": len(data.items)})
        return True
    return False


async def _load(uow: UnitOfWork, ctx: ServiceContext, data: ListData) -> None:
    areas, items = AreaRepository(uow.session), ItemRepository(uow.session)
    windows = WindowRepository(uow.session)
    for area in data.areas:
        if await areas.get(area.key) is None:
            await areas.save(area)
    existing = await items.get_many(i.code for i, _s, _p in data.items)
    for item, standards, procedures in data.items:
        if item.code not in existing:
            await save_item(uow, None, item, standards, procedures)
    known = set(existing) | {i.code for i, _s, _p in data.items}
    present = await windows.get_many(w.id for w in data.windows)
    for window in data.windows:
        if window.id not in present and window.locality in ctx.localities:
            await windows.save(replace(window, item_codes=tuple(c for c in window.item_codes if c in known)))
    await ListRepository(uow.session).save(data.catalogue_list)


async def reindex_stale(ctx: ServiceContext) -> int:
    """Re-index items whose search terms an older tokenizer made (or that have none); how many."""
    done = 0
    while True:
        async with ctx.uow() as uow:
            items, areas = ItemRepository(uow.session), AreaRepository(uow.session)
            stale = await items.stale_index()
            if not stale:
                return done
            for item in stale:
                await items.reindex(item, await areas.get(item.area))
                await items.mark_indexed(item.code)
            await uow.commit()
            done += len(stale)


async def on_startup(ctx: ServiceContext) -> None:
    """The catalogue's start: re-index what needs it, then load the first list if it is missing."""
    await reindex_stale(ctx)
    await load(ctx, read())
