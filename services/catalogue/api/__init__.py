"""REST API of the catalogue (OpenAPI at ``/docs``): items, standards, procedures, windows, areas,
lists, import and export. Every route needs a token; writes need the maintainer role."""

from fastapi import APIRouter

from services.catalogue.api import items, lists, transfer, windows

routers: list[APIRouter] = [items.router, lists.router, windows.windows, windows.areas, transfer.router]

__all__ = ["routers"]
