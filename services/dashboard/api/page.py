"""The dashboard's single page and its static files (public)."""


from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

from services.dashboard.api.common import (
    ASSETS,
    STATIC,
    secured,
)
from shared.problems import NotFound

pages = APIRouter(tags=["page"])


@pages.get("/", include_in_schema=False)
async def index() -> Response:
    """The dashboard's single page."""
    response = FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return secured(response)


@pages.get("/static/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    """A file of the page (a fixed list: nothing else of the folder is served)."""
    if name not in ASSETS:
        raise NotFound(f"no asset {name}")
    response = FileResponse(STATIC / name, media_type=ASSETS[name])
    response.headers["Cache-Control"] = "no-cache"
    return secured(response)
