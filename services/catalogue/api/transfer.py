"""Import and export of the catalogue as CSV files and XLSX workbooks, for maintainers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from services.catalogue.api.common import Ctx, Exporter, Regional, Uow, concurrently_changed, invalid
from services.catalogue.api.schemas import ImportReport
from services.catalogue.domain.tabular import SHEETS, ImportRejected, Table, export_tables
from services.catalogue.domain.tabular_import import Existing, plan_import, referenced
from services.catalogue.service import apply_import
from services.catalogue.spreadsheets import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    UnreadableFile,
    read_csv,
    read_xlsx,
    write_csv,
    write_xlsx,
)
from services.catalogue.store import ItemRepository
from services.catalogue.store_standards import StandardRepository, WindowRepository
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["import and export"])
SheetName = Literal["items", "standards", "materials", "procedures", "windows"]
FileFormat = Literal["xlsx", "csv"]
MAX_UPLOAD = 20 * 1024 * 1024
assert set(SHEETS) == {"items", "standards", "materials", "procedures", "windows"}


@router.get(
    "/export",
    summary="Export the catalogue: every sheet as an XLSX workbook, or one sheet as CSV",
    response_class=Response,
    responses={200: {"description": "An XLSX workbook (`format=xlsx`) or one sheet as CSV (`format=csv`)",
                     "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
                                 CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
async def export(
    uow: Uow,
    _caller: Exporter,
    file_format: Annotated[FileFormat, Query(alias="format")] = "xlsx",
    sheet: SheetName | None = None,
) -> Response:
    if file_format == "csv" and sheet is None:
        raise invalid("query.sheet", "a CSV export holds one sheet: name it")
    async with uow:
        stores = StandardRepository(uow.session)
        tables = export_tables(
            await ItemRepository(uow.session).all(), await stores.all(), await stores.all_procedures(),
            await WindowRepository(uow.session).find(),
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    if file_format == "csv":
        table = next(t for t in tables if t.sheet == sheet)
        return Response(write_csv(table), media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="tongban-catalogue-{sheet}-{stamp}.csv"'})
    data = await asyncio.to_thread(write_xlsx, tables)
    return Response(data, media_type=XLSX_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="tongban-catalogue-{stamp}.xlsx"'})


class TooLarge(Problem):
    """An upload over the size limit."""

    status, slug, title = 413, "too-large", "Upload too large"


async def _upload(request: Request) -> tuple[bytes, str, str]:
    """The uploaded bytes, their file name and media type: a raw body, or the ``file`` of a form."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD + 65536:
        raise TooLarge(f"uploads are limited to {MAX_UPLOAD // (1024 * 1024)} MiB")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        form = await request.form(max_files=1)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise invalid("body.file", "send the file in a form field named file")
        data = await upload.read(MAX_UPLOAD + 1)
        name, media_type = upload.filename or "", (upload.content_type or "").lower()
    else:
        data, name = await request.body(), ""
    if len(data) > MAX_UPLOAD:
        raise TooLarge(f"uploads are limited to {MAX_UPLOAD // (1024 * 1024)} MiB")
    if not data:
        raise invalid("body", "the upload is empty")
    return data, name, media_type


def _format(given: str | None, name: str, media_type: str, data: bytes) -> str:
    if given:
        return given
    if media_type == XLSX_MEDIA_TYPE or name.lower().endswith(".xlsx") or data[:2] == b"PK":
        return "xlsx"
    if media_type in (CSV_MEDIA_TYPE, "application/csv", "text/plain") or name.lower().endswith(".csv"):
        return "csv"
    raise invalid("query.format", "say format=csv or format=xlsx (or send a Content-Type)")


def _rejected(errors: list[dict[str, object]], detail: str) -> Problem:
    return Problem(detail, status=422, slug="import-rejected", title="Import rejected", errors=errors)


@router.post(
    "/import",
    summary="Import a CSV sheet or an XLSX workbook: all or nothing, every bad row reported",
    responses={422: {"description": "Bad rows (sheet, row, column, reason); nothing was imported"},
               413: {"description": "Upload too large"}},
)
async def import_catalogue(
    request: Request,
    uow: Uow,
    ctx: Ctx,
    _caller: Regional,
    file_format: Annotated[FileFormat | None, Query(alias="format")] = None,
    sheet: Annotated[SheetName | None, Query(description="The sheet a CSV file holds")] = None,
    dry_run: Annotated[bool, Query(description="Check and report without changing anything")] = False,
) -> ImportReport:
    data, name, media_type = await _upload(request)
    chosen = _format(file_format, name, media_type, data)
    try:
        if chosen == "csv":
            stem = name.rsplit("/", 1)[-1].removesuffix(".csv")
            sheet_name = sheet or (stem if stem in SHEETS else None)
            if sheet_name is None:
                raise invalid("query.sheet", "a CSV file holds one sheet: name it")
            tables: list[Table] = [read_csv(data, sheet_name)]
        else:
            tables = await asyncio.to_thread(read_xlsx, data)
    except UnreadableFile as exc:
        raise _rejected([{"sheet": sheet, "row": None, "column": None, "reason": str(exc)}], str(exc)) from exc
    codes, window_ids = referenced(tables)
    async with uow, concurrently_changed():
        items, stores = ItemRepository(uow.session), StandardRepository(uow.session)
        found = await items.get_many(codes)
        standards = await stores.of_items(found)
        procedures = await stores.procedures_of_items(found)
        existing = Existing(
            items=found,
            standards={c: {s.locality: s for s in standards[c]} for c in found},
            procedures={c: {p.mode: p for p in procedures[c]} for c in found},
            windows=await WindowRepository(uow.session).get_many(window_ids),
        )
        try:
            plan = plan_import(tables, existing, ctx.localities.codes)
        except ImportRejected as exc:
            raise _rejected([e.as_dict() for e in exc.errors],
                            f"{len(exc.errors)} bad rows; nothing was imported") from exc
        events = 0
        if not dry_run:
            events = await apply_import(uow, plan)
            await uow.commit()
    return ImportReport(dry_run=dry_run, sheets=[t.sheet for t in tables], events=events, **plan.summary())
