"""Windows of each locality and the items they accept; the catalogue's areas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.catalogue.api.common import (
    LOCALITY_PATTERN,
    Ctx,
    Reader,
    Regional,
    Uow,
    WindowWriter,
    check_locality,
    concurrently_changed,
    conditional_json,
    invalid,
    invalid_content,
)
from services.catalogue.api.schemas import AreaBody, AreaView, WindowBody, WindowView
from services.catalogue.domain.errors import InvalidContent
from services.catalogue.domain.items import AREA_KEY, ITEM_CODE
from services.catalogue.domain.standards import WINDOW_ID, Window
from services.catalogue.domain.text import clean_text
from services.catalogue.store import Area, ItemFilter, ItemRepository
from services.catalogue.store_standards import AreaRepository, WindowRepository
from shared.problems import NotFound

windows = APIRouter(prefix="/v1/windows", tags=["windows"])
areas = APIRouter(prefix="/v1/areas", tags=["areas"])


@windows.get("", summary="Cross-provincial windows, by locality and by the item they accept",
             response_model=list[WindowView])
async def list_windows(
    request: Request,
    uow: Uow,
    ctx: Ctx,
    _caller: Reader,
    locality: Annotated[str | None, Query(pattern=LOCALITY_PATTERN)] = None,
    item: Annotated[str | None, Query(pattern=ITEM_CODE.pattern, examples=["YRD-YB-0104"])] = None,
) -> Response:
    check_locality(ctx, locality)
    async with uow:
        if item is not None and await ItemRepository(uow.session).get(item) is None:
            raise invalid("query.item", f"there is no item {item}")
        found = await WindowRepository(uow.session).find(locality, item)
    return conditional_json(request, [WindowView.of(w) for w in found])


@windows.get("/{window_id}", summary="One window", response_model=WindowView)
async def get_window(window_id: str, request: Request, uow: Uow, _caller: Reader) -> Response:
    if not WINDOW_ID.match(window_id):
        raise NotFound(f"no window {window_id}")
    async with uow:
        window = await WindowRepository(uow.session).get(window_id)
    if window is None:
        raise NotFound(f"no window {window_id}")
    return conditional_json(request, WindowView.of(window))


@windows.put("/{window_id}", summary="Create or replace a window")
async def put_window(window_id: str, body: WindowBody, uow: Uow, ctx: Ctx, _caller: WindowWriter) -> WindowView:
    if not WINDOW_ID.match(window_id):
        raise invalid("path.window_id", f"must match {WINDOW_ID.pattern}")
    locality = window_id[2:8]
    check_locality(ctx, locality, "path.window_id")
    try:
        window = Window(window_id, locality, body.name_zh, body.name_en, body.address, body.hours, body.phone,
                        tuple(body.item_codes), body.illustrative)
    except InvalidContent as exc:
        raise invalid_content(exc) from exc
    async with uow, concurrently_changed():
        found = await ItemRepository(uow.session).get_many(window.item_codes)
        unknown = [c for c in window.item_codes if c not in found]
        if unknown:
            raise invalid("body.item_codes", f"unknown items: {', '.join(unknown[:10])}")
        await WindowRepository(uow.session).save(window)
        await uow.commit()
    return WindowView.of(window)


@areas.get("", summary="The catalogue's areas and the aliases search finds them under",
           response_model=list[AreaView])
async def list_areas(request: Request, uow: Uow, _caller: Reader) -> Response:
    async with uow:
        found = await AreaRepository(uow.session).all()
    return conditional_json(request, [AreaView(**a.as_dict()) for a in found])


@areas.put("/{key}", summary="Create or change an area (its items are re-indexed)")
async def put_area(key: str, body: AreaBody, uow: Uow, _caller: Regional) -> AreaView:
    if not AREA_KEY.match(key):
        raise invalid("path.key", f"must match {AREA_KEY.pattern}")
    try:
        area = Area(key, clean_text("name_zh", body.name_zh, 100), clean_text("name_en", body.name_en, 200),
                    [clean_text("aliases", a, 100) for a in body.aliases])
    except InvalidContent as exc:
        raise invalid_content(exc) from exc
    async with uow, concurrently_changed():
        await AreaRepository(uow.session).save(area)
        items = ItemRepository(uow.session)
        after: str | None = None
        while True:
            batch = await items.search(ItemFilter(area=key), after, 500)
            for item in batch:
                await items.reindex(item, area)
            if len(batch) < 500:
                break
            after = batch[-1].code
        await uow.commit()
    return AreaView(**area.as_dict())
