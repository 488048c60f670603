"""The dashboard's page and its JSON API (``/api/...``): one router per resource, their models in ``schemas``.

The page and its static files are public; every other endpoint needs an operator's session (a random
id in an HttpOnly, SameSite=Strict cookie; the database keeps only its SHA-256). Errors are problem+json.
"""

from fastapi import APIRouter

from services.dashboard.api import evaluations, events, handling, page, panels, session, webhooks
from services.dashboard.api.common import COOKIE

routers: list[APIRouter] = [page.pages, session.router, events.router, panels.router, handling.router,
                            webhooks.router, evaluations.router]

__all__ = ["COOKIE", "routers"]
