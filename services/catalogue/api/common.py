"""What every route of the catalogue shares: dependencies, conditional GETs, field errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from services.catalogue.domain.errors import InvalidContent
from shared.auth import Caller, InsufficientRole, Role, authenticated, require
from shared.problems import Conflict, Forbidden, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]
Regional = Annotated[Caller, Depends(require(Role.REGIONAL_CATALOGUE))]
"""The joint office's catalogue desk: items, procedures, areas, lists, publishing and imports."""
Exporter = Annotated[Caller, Depends(require(Role.MAINTAINER, Role.REGIONAL_CATALOGUE))]
LOCALITY_PATTERN = r"^[1-8]\d{5}$"


def may_write_locality(caller: Caller, locality: str) -> None:
    """A locality's maintainer writes only its own locality's standards and windows; the joint office any.

    403 otherwise, before the request is judged further (so the answer says nothing about the target).
    """
    if caller.has(Role.REGIONAL_CATALOGUE):
        return
    if not caller.has(Role.MAINTAINER):
        raise InsufficientRole(f"this needs one of the roles: {Role.MAINTAINER}, {Role.REGIONAL_CATALOGUE}")
    if caller.locality != locality:
        raise Forbidden(f"a maintainer of {caller.locality} writes only its own locality's standards and windows, "
                        f"not those of {locality}")


LocalityCode = Annotated[str, Path(pattern=r"^\d{6}$", description="A locality code (GB/T 2260), e.g. 320505.")]


async def _standard_writer(locality: LocalityCode, caller: Reader) -> Caller:
    may_write_locality(caller, locality)
    return caller


async def _window_writer(window_id: str, caller: Reader) -> Caller:
    may_write_locality(caller, window_id[2:8])  # W-<locality>-<nn>; a malformed id is refused afterwards
    return caller


StandardWriter = Annotated[Caller, Depends(_standard_writer)]
"""The maintainer of the standard's locality, or the joint office."""
WindowWriter = Annotated[Caller, Depends(_window_writer)]
"""The maintainer of the window's locality, or the joint office."""


def invalid(field: str, message: str, kind: str = "value_error") -> Problem:
    """A 422 naming one field, shaped like the framework's validation errors."""
    return Problem(
        f"invalid fields: {field}", status=422, slug="validation", title="Invalid request",
        errors=[{"field": field, "message": message, "type": kind}],
    )


def invalid_content(exc: InvalidContent, prefix: str = "body") -> Problem:
    """A 422 for content that breaks a catalogue rule."""
    return invalid(f"{prefix}.{exc.field}" if prefix else exc.field, exc.message)


def check_locality(ctx: ServiceContext, locality: str | None, field: str = "query.locality") -> None:
    """422 when a locality filter names no registered locality."""
    if locality is not None and locality not in ctx.localities:
        raise invalid(field, f"{locality} is not a registered locality")


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = [c.strip() for c in header.split(",")]
    return any(c.removeprefix("W/") == etag for c in candidates)


def conditional_json(request: Request, payload: Any) -> Response:
    """A JSON response with a strong ETag; 304 when ``If-None-Match`` names it."""
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json().encode("utf-8")
    else:
        body = json.dumps(jsonable_encoder(payload), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@asynccontextmanager
async def concurrently_changed() -> AsyncIterator[None]:
    """409 when another request changed the same rows at the same moment (a key collided)."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict("the catalogue changed at the same moment; read it again and retry") from exc
