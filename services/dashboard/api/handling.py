"""More of the dashboard's API: the names of event types, and handling time and on-time rate per week.

Separate from ``api.py`` (login, stream, the first panels) so that each stays small. The panel's
weeks come from a clock that is a FastAPI dependency: tests override ``get_clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.dashboard.api.common import Ctx, Operator
from services.dashboard.domain.handling import MAX_WEEKS, first_moment, handling_trends, weeks_back
from services.dashboard.domain.vocabulary import EVENT_TYPE_NAMES
from services.dashboard.store_handling import handled_cases
from shared.api_types import Timestamp

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


def get_clock() -> Clock:
    """FastAPI dependency: the clock the figures are computed against."""
    return system_clock


router = APIRouter(prefix="/api", tags=["dashboard"])


class TypeName(BaseModel):
    """What an event type is called."""

    zh: str
    en: str


class Vocabulary(BaseModel):
    """Names of the event types, by type without its version suffix."""

    event_types: dict[str, TypeName]


@router.get("/vocabulary", summary="Names of the event types in Chinese and English")
async def vocabulary(_viewer: Operator) -> Vocabulary:
    return Vocabulary(event_types={t: TypeName(zh=zh, en=en) for t, (zh, en) in EVENT_TYPE_NAMES.items()})


class WeekPoint(BaseModel):
    """One locality's figures of one week (Monday, China Standard Time)."""

    week: date
    handled: int
    median_seconds: float | None
    with_deadline: int
    on_time: int
    on_time_rate: float | None


class LocalitySeries(BaseModel):
    """The weeks of one owning locality, oldest first."""

    locality: str
    points: list[WeekPoint]


class HandlingPanel(BaseModel):
    """Handling time (acceptance to decision) and on-time rate per owning locality and week."""

    weeks: list[date]
    now: Timestamp
    series: list[LocalitySeries]


@router.get("/panels/handling", summary="Handling time and on-time rate per owning locality, last weeks")
async def handling(
    viewer: Operator, ctx: Ctx, clock: Annotated[Clock, Depends(get_clock)],
    weeks: Annotated[int, Query(ge=1, le=MAX_WEEKS)] = 8,
) -> HandlingPanel:
    now = clock()
    since = first_moment(weeks_back(now, weeks)[0])
    async with ctx.sessionmaker() as session:
        rows = await handled_cases(session, viewer, since)
    return HandlingPanel.model_validate(handling_trends(rows, now, viewer.visible(ctx.localities.codes), weeks))


routers = [router]
