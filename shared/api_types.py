"""Types every service's API answers with: times, pages, the problem body, ``Location`` on 201.

One rule for times on the wire: RFC 3339 with an explicit offset (``2026-12-01T08:00:00+00:00``),
never a naive local time; dates as dates (``2026-12-01``). SQLite hands timestamps back without their
zone although they were written in UTC, so a naive value is read as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Response
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.json_schema import SkipJsonSchema

from shared.problems import PROBLEM_BASE


def aware(moment: datetime) -> datetime:
    """``moment`` with its zone; a naive value (from SQLite) is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    """``moment`` as RFC 3339 with an explicit offset (naive values taken as UTC)."""
    return aware(moment).isoformat()


Timestamp = Annotated[
    datetime,
    AfterValidator(aware),
    PlainSerializer(rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-12-01T08:00:00+08:00"],
                    "description": "RFC 3339 with an explicit offset."}),
]
"""A moment as services answer it: always with its offset (naive values from SQLite are UTC)."""

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 time with its offset, e.g. 2026-12-01T08:00:00+08:00")
    return value


TimestampIn = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_text),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-12-01T08:00:00+08:00"],
                    "description": "RFC 3339 with an explicit offset; a time without one is refused."}),
]
"""A moment a client sends (a body field, a query parameter): RFC 3339 with its offset, nothing else.

Pydantic alone would take a number as seconds since 1970 and a time without zone as naive."""


class CursorPage(BaseModel):
    """The shape every paged list shares: its items (under the list's own name) and the cursor on.

    A service subclasses it with the list field (``cases``, ``items``, ``deliveries``): the name
    says what is listed, ``next_cursor`` is the same everywhere.
    """

    next_cursor: str | None = Field(
        description="Pass as `cursor` to fetch the next page; null on the last page.")


def set_location(response: Response, path: str) -> None:
    """Say where a created resource lives (``Location`` of a 201; a path on this service)."""
    response.headers["Location"] = path


def location(path: str) -> dict[str, str]:
    """The ``Location`` header of a 201 built by hand (``JSONResponse(..., headers=location(...))``)."""
    return {"Location": path}


# --------------------------------------------------------------------------- problems


class FieldError(BaseModel):
    """One field of a request that failed validation."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="Where: `body.materials.0.sha256`, `query.cursor`, `path.case_id`.",
                       examples=["body.applicant_id"])
    message: str = Field(examples=["String should have at least 18 characters"])
    type: str | SkipJsonSchema[None] = Field(default=None, description="The validator's error type.",
                                             examples=["string_too_short"])


class ProblemDetails(BaseModel):
    """An RFC 9457 problem detail (``application/problem+json``), the body of every 4xx and 5xx.

    ``type`` names the problem (a URI under ``https://tongban.example/problems/``) and is what a
    client branches on; a problem may carry further members (``allowed``, ``missing``, ...).
    """

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="URI of the problem type.", examples=[PROBLEM_BASE + "not-found"])
    title: str = Field(description="Short summary of the problem type.", examples=["Not found"])
    status: int = Field(ge=400, le=599, description="The HTTP status code.", examples=[404])
    detail: str | SkipJsonSchema[None] = Field(default=None, description="What went wrong this time, for a person.")
    instance: str | SkipJsonSchema[None] = Field(default=None, description="The path of the request.",
                                                 examples=["/v1/cases/x"])
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None, description="Validation problems (422): every field that failed.")


def problem_example(status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """An example problem body, as the services send it."""
    return {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            "instance": "/v1/...", **extra}
