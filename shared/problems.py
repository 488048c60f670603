"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import is_transient

log = logging.getLogger("tongban.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://tongban.example/problems/"


class Problem(Exception):
    """An error the client can act on; rendered as problem+json.

    ``slug`` names the problem type (``/problems/<slug>``); ``extra`` adds members.
    """

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        self.headers = headers or {}
        self.extra = extra


class NotFound(Problem):
    """The thing asked for does not exist (or is not the caller's to see)."""

    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    """The request conflicts with the current state."""

    status, slug, title = 409, "conflict", "Conflict"


class Forbidden(Problem):
    """The caller may not do this."""

    status, slug, title = 403, "forbidden", "Forbidden"


def problem_response(
    status: int,
    title: str,
    detail: str,
    slug: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
"""Connection exceptions (class 08) and the server going away: admin or crash shutdown, "cannot
connect now" (starting up or shutting down). The driver reports them as plain DBAPI errors."""


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error wrapped by SQLAlchemy, or an empty string."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return code if isinstance(code, str) else ""


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is away for a moment: answered 503 with Retry-After, not 500."""
    return is_transient(exc) or sqlstate(exc).startswith(_UNAVAILABLE_SQLSTATES)


def value_refused(exc: BaseException) -> bool:
    """Whether the database refused a value the request carried (SQLSTATE class 22, data exception)."""
    return isinstance(exc, DataError) or sqlstate(exc).startswith("22")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` as problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, exc.slug, request.url.path, exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type")}
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            422, "Invalid request", f"invalid fields: {fields}", "validation", request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the methods of one route only (FastAPI has one per method)
            from shared.openapi import allowed_methods

            headers["Allow"] = allowed_methods(request.app, request.url.path) or headers.get("Allow", "")
        return problem_response(
            exc.status_code, title, detail, title.lower().replace(" ", "-"), request.url.path, headers,
        )

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        if value_refused(exc):
            # The database refused a value the request carried (a NUL character, an integer out of
            # range, ...): the client's input, not our fault. Schemas should catch these first.
            log.info("value refused by the database", extra={"path": request.url.path, "error": repr(exc)[:300]})
            return problem_response(
                422, "Invalid request", "a value is out of range or holds a character that cannot be stored",
                "invalid-value", request.url.path,
            )
        if not database_unavailable(exc):
            raise exc  # not the database being away: the catch-all below logs it and answers 500
        log.warning("database unavailable", extra={"error": repr(exc)})
        return problem_response(
            503, "Service unavailable", "the database is not reachable; retry shortly",
            "unavailable", request.url.path, {"Retry-After": "2"},
        )

    # Handlers of these classes run where the request's exceptions are handled; the catch-all for
    # Exception runs in the outermost middleware, which re-raises after answering, so that the
    # server logs an error and closes the client's kept-alive connection: wrong for an expected 503.
    app.add_exception_handler(DBAPIError, _unavailable)
    app.add_exception_handler(OSError, _unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            return await _unavailable(request, exc)
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            500, "Internal error", "an unexpected error occurred; it has been logged",
            "internal", request.url.path,
        )
