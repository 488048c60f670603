"""Routing's REST API: one router per resource (cases, calendar, notices, case files), their models in ``schemas``."""

from fastapi import APIRouter

from services.routing.api import cases, files, notices

routers: list[APIRouter] = [*cases.routers, notices.notices, *files.routers]
