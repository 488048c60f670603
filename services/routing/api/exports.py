"""The case export (issue 17): a locality's cases in the field set that provincial platforms exchange,
as CSV (streamed, every case of the period) or JSON (paged by cursor). See docs/exports.md."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from services.routing.domain import CaseStatus
from services.routing.exports.rows import header
from services.routing.exports.service import ExportFilters, decode_position, export_all, export_page
from shared.api_types import CursorPage, TimestampIn
from shared.auth import Caller, authenticated
from shared.problems import Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

exports = APIRouter(prefix="/v1/exports", tags=["exports"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]


class Supplement(BaseModel):
    """One supplement request (补正) of a case."""

    BZGZSJ: str = Field(description="补正告知时间 / supplement notice time (RFC 3339, China time)")
    BZYY: str = Field(description="补正原因 / reason, each line `material：reason`, lines joined by `；`")
    BZCLQD: str = Field(description="补正材料清单 / the materials asked for, joined by `、`")
    BZSLSJ: str = Field(description="补正受理时间 / when the supplement came in (\"\" while it is awaited)")


class SpecialProcedure(BaseModel):
    """One special procedure (特别程序) that stopped the clock; Tongban has none yet (always empty)."""

    TBCXKSSJ: str
    TBCXYY: str
    TBCXJSSJ: str
    TBCXJG: str


class ExchangeRow(BaseModel):
    """One case as provincial platforms exchange it (docs/exports.md gives every field's source)."""

    SBLSH: str = Field(description="申办流水号 / application serial number (the case id)")
    SXBM: str = Field(description="事项编码 / the owner's implementation code (实施清单), else Tongban's item code")
    JBMLBM: str = Field(description="基本目录编码 / national basic-catalogue code (\"\" when unknown)")
    TBSXBM: str = Field(description="通办事项编码 / Tongban item code")
    SXMC: str = Field(description="事项名称 / item name")
    SQSJ: str = Field(description="申请时间 / application time")
    SQRLX: str = Field(description="申请人类型 / applicant type: 1 person, 2 enterprise")
    SBQD: str = Field(description="申办渠道 / channel: 1 window, 2 online")
    XZQHDM: str = Field(description="受理地行政区划代码 / GB/T 2260 code of the accepting locality")
    BLDXZQHDM: str = Field(description="办理地行政区划代码 / the owners' codes, joined by `;`")
    YSLZT: str = Field(description="预受理状态 / pre-acceptance status: 1 received")
    YSLSJ: str = Field(description="预受理时间 / pre-acceptance time")
    SLZT: str = Field(description="受理状态 / acceptance status: 0 pending, 1 accepted, 2 not accepted")
    SLSJ: str = Field(description="受理时间 / acceptance time")
    BYSLYY: str = Field(description="不予受理原因 / refusal reason (a case withdrawn before acceptance)")
    SLBH: str = Field(description="受理编号 / acceptance number (the acceptance attestation's id)")
    BJSJ: str = Field(description="办结时间 / completion time (the decision)")
    BJJGDM: str = Field(description="办结结果代码 / result code (exchange-codes.json)")
    BJJGMS: str = Field(description="办结结果描述 / result description (with the reason of a refusal)")
    LQSJ: str = Field(description="领取时间 / collection time (the result delivered or handed over)")
    TBZT: str = Field(description="通办状态 / Tongban's status of the case")
    BZ: list[Supplement] = Field(description="补正 / the supplement requests, in order")
    TBCX: list[SpecialProcedure] = Field(description="特别程序 / special procedures (none in Tongban yet)")


class ExportPage(CursorPage):
    """A page of the export, oldest case first."""

    cases: list[ExchangeRow]


def _filters(caller: Caller, since: datetime | None, until: datetime | None,
             status: CaseStatus | None) -> ExportFilters:
    if since is not None and until is not None and until <= since:
        raise Problem("the period is empty: `until` must be after `since`", status=422, slug="validation",
                      title="Invalid request", errors=[{"field": "query.until", "message": "must be after since",
                                                        "type": "value_error"}])
    return ExportFilters(caller.locality, since, until, status.value if status else None)


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


@exports.get(
    "/cases", summary="The caller's locality's cases in the exchange's field set (CSV or JSON)",
    response_model=ExportPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                     "description": "JSON: a page of rows (`format=json`); CSV: every row of the period, streamed"}},
)
async def export_cases(
    uow: Uow, ctx: Ctx, caller: Reader,
    format: Annotated[Literal["csv", "json"], Query(description="`json` (paged) or `csv` (every row)")] = "json",
    since: Annotated[TimestampIn | None, Query(description="Cases submitted at or after this time")] = None,
    until: Annotated[TimestampIn | None, Query(description="Cases submitted before this time")] = None,
    status: Annotated[CaseStatus | None, Query(description="Only cases in this Tongban status")] = None,
    header_language: Annotated[Literal["code", "zh", "en"], Query(
        alias="header", description="CSV header: the exchange's names, or their Chinese or English labels")] = "code",
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ExportPage | StreamingResponse:
    filters = _filters(caller, since, until, status)
    if format == "csv":
        if cursor is not None:
            raise Problem("a CSV export holds every case of the period; it takes no cursor", status=422,
                          slug="validation", title="Invalid request",
                          errors=[{"field": "query.cursor", "message": "only with format=json", "type": "value_error"}])

        async def lines() -> AsyncIterator[str]:
            yield _csv_line(header(header_language))
            async for row in export_all(ctx.uow, filters):
                yield _csv_line([str(row[name]) for name in header("code")])

        return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="cases-{caller.locality}.csv"'})
    try:
        after = decode_position(cursor, filters) if cursor else None
    except ValueError as exc:
        raise Problem("cursor is not valid", status=422, slug="validation", title="Invalid request",
                      errors=[{"field": "query.cursor", "message": str(exc), "type": "value_error"}]) from exc
    async with uow:
        rows, next_cursor = await export_page(uow, filters, after, limit)
    return ExportPage.model_validate({"cases": rows, "next_cursor": next_cursor})
