"""Routing's REST API: one router per resource (cases, calendar, case files), their models in ``schemas``."""

from fastapi import APIRouter

from services.routing.api import cases, files

routers: list[APIRouter] = [*cases.routers, *files.routers]
