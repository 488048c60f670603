"""REST API of the shared statutory calendar: read a year, its versions; load, replace or withdraw it.

Every locality's deadlines are counted on this calendar, so only the joint office's
``regional_calendar`` role changes it; every change is versioned (who, when), audited and announced.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from services.routing.api.schemas import YearView
from services.routing.calendar import load_schedule, schedule_history, withdraw_schedule
from services.routing.deadlines import CalendarKeeper
from services.routing.domain import YearSchedule
from services.routing.domain.calendar import NothingToWithdraw, ScheduleVersion
from services.routing.service import today
from shared.api_types import Timestamp
from shared.auth import Caller, Role, authenticated, require
from shared.problems import Conflict, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

calendar = APIRouter(prefix="/v1/calendar", tags=["calendar"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]
CalendarKeeperRole = Annotated[Caller, Depends(require(Role.REGIONAL_CALENDAR))]
Year = Annotated[int, Path(ge=2000, le=2100)]


class Schedule(BaseModel):
    """A year's statutory schedule, as in the State Council's notice."""

    model_config = ConfigDict(extra="forbid")

    holidays: list[date] = Field(max_length=60, description="Days off that would otherwise be working days.")
    adjusted_workdays: list[date] = Field(default_factory=list, max_length=20,
                                          description="Weekend days worked instead (调休).")
    source: str = Field(min_length=1, max_length=200, examples=["国务院办公厅关于2027年部分节假日安排的通知"])


class Withdrawal(BaseModel):
    """Why a year's schedule is withdrawn (a mistaken schedule, a notice revoked)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class VersionView(BaseModel):
    """One version of a year's schedule: what it was afterwards, who changed it and when."""

    year: int
    version: int
    change: Literal["loaded", "replaced", "withdrawn"]
    source: str
    holidays: list[date]
    adjusted_workdays: list[date]
    reason: str
    by_locality: str
    by_client: str
    at: Timestamp

    @classmethod
    def of(cls, version: ScheduleVersion) -> VersionView:
        """The view of a domain version."""
        schedule = version.schedule
        return cls(year=version.year, version=version.version, change=version.change,
                   source=schedule.source if schedule else "",
                   holidays=sorted(schedule.holidays) if schedule else [],
                   adjusted_workdays=sorted(schedule.adjusted_workdays) if schedule else [],
                   reason=version.reason, by_locality=version.by_locality, by_client=version.by_client,
                   at=version.at)


class ChangeView(VersionView):
    """A change just made, and what it did to the deadlines."""

    loaded: bool
    recomputed: int = Field(description="Open cases whose due date moved.")
    in_force: Literal["operators", "library", "none"] = Field(
        description="Where the year's schedule now comes from: this version, the chinese-calendar library, or "
                    "nowhere (weekends alone, deadlines provisional).")


class HistoryView(BaseModel):
    """Every version of a year's schedule, oldest first."""

    year: int
    versions: list[VersionView]


def _keeper(ctx: ServiceContext) -> CalendarKeeper:
    keeper: CalendarKeeper = ctx.state["calendar"]
    return keeper


def _change_view(keeper: CalendarKeeper, version: ScheduleVersion, recomputed: int) -> ChangeView:
    in_force: Literal["operators", "library", "none"] = (
        "operators" if version.schedule is not None else "library" if keeper.calendar.knows(version.year) else "none")
    return ChangeView(**VersionView.of(version).model_dump(), loaded=version.schedule is not None,
                      recomputed=recomputed, in_force=in_force)


@calendar.get("/{year}", summary="A year's working-day schedule as routing uses it")
async def get_year(year: Year, ctx: Ctx, _caller: Reader) -> YearView:
    schedule = _keeper(ctx).calendar.schedules.get(year)
    if schedule is None:
        raise NotFound(f"no schedule for {year}: deadlines in it are counted on weekends alone (provisional)")
    return YearView(year=year, source=schedule.source, holidays=sorted(schedule.holidays),
                    adjusted_workdays=sorted(schedule.adjusted_workdays))


@calendar.get("/{year}/versions", summary="Every version of a year's schedule: who loaded, replaced or withdrew it")
async def get_versions(year: Year, uow: Uow, _caller: Reader) -> HistoryView:
    async with uow:
        history = await schedule_history(uow, year)
    return HistoryView(year=year, versions=[VersionView.of(v) for v in history.versions])


@calendar.put("/{year}", summary="Load or replace a year's schedule (overrides the library); recompute deadlines")
async def put_year(year: Year, body: Schedule, uow: Uow, ctx: Ctx, caller: CalendarKeeperRole) -> ChangeView:
    try:
        schedule = YearSchedule(year, frozenset(body.holidays), frozenset(body.adjusted_workdays), body.source)
    except ValueError as exc:
        raise Problem(str(exc), status=422, slug="invalid-schedule", title="Invalid schedule") from exc
    keeper = _keeper(ctx)
    try:
        async with uow:
            version, recomputed = await load_schedule(uow, keeper, schedule, caller, today())
            await uow.commit()
    except IntegrityError:
        raise Conflict(f"the schedule of {year} changed at the same moment; read its versions and retry") from None
    return _change_view(keeper, version, recomputed)


@calendar.post("/{year}/withdraw", summary="Withdraw a year's schedule: its deadlines as if it had never been loaded")
async def withdraw_year(year: Year, body: Withdrawal, uow: Uow, ctx: Ctx, caller: CalendarKeeperRole) -> ChangeView:
    keeper = _keeper(ctx)
    try:
        async with uow:
            version, recomputed = await withdraw_schedule(uow, keeper, year, body.reason, caller, today())
            await uow.commit()
    except NothingToWithdraw as exc:
        if exc.withdrawn_already:
            raise Conflict(str(exc)) from exc
        raise NotFound(str(exc)) from exc
    except IntegrityError:
        raise Conflict(f"the schedule of {year} changed at the same moment; read its versions and retry") from None
    return _change_view(keeper, version, recomputed)
