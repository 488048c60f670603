"""The applicant's documents of a case: made when first asked for, kept in the case file, fetched again.

``GET /v1/cases/{id}/documents`` lists the receipt notice (收件告知单, once the case is accepted) and a
one-time notice (一次性告知书) per notice, each a PDF in the case file (``kind=notice``): the first call
makes the missing ones, later calls find them. Each entry names the file, fetched with
``GET /v1/cases/{id}/files/{sha256}`` like every case file (parties only, each download audited).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.routing.documents.content import notice_document, receipt_document
from services.routing.documents.render import FontMissing, render
from services.routing.files.service import CaseFiles
from services.routing.store import CaseRepository
from services.routing.store_reference import KnownItemRepository
from services.routing.window import query_code
from shared.auth import Caller, authenticated
from shared.problems import NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

documents = APIRouter(prefix="/v1/cases", tags=["cases"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
RECEIPT = "收件告知单"


class DocumentEntry(BaseModel):
    """One document of the applicant's, kept in the case file."""

    kind: Literal["receipt_notice", "one_time_notice"]
    notice: int | None = Field(description="The one-time notice's number; null for the receipt.")
    name: str
    sha256: str
    size: int
    href: str = Field(description="Where the PDF is fetched: the case file's download.")


class DocumentList(BaseModel):
    """The applicant's documents of a case."""

    case_id: str
    documents: list[DocumentEntry]


def status_link(request: Request, case_id: str, code: str) -> str:
    """The status-query link the QR code carries."""
    return f"{str(request.base_url).rstrip('/')}/v1/status/{case_id}?code={code}"


async def _kept(files: CaseFiles, case_id: str, label: str, build: Any, caller: Caller) -> dict[str, Any]:
    found = await files.document(case_id, label)
    if found is not None:
        return found
    try:
        data = await asyncio.to_thread(render, build())
    except FontMissing as exc:
        raise Problem(str(exc), status=503, slug="font-missing", title="Font missing") from exc
    return await files.issue_document(case_id, data, f"{label}.pdf", label, caller.locality, caller.client_id)


@documents.get("/{case_id}/documents", summary="The receipt notice and one-time notices, as PDF in the case file")
async def list_documents(case_id: str, request: Request, uow: Uow, ctx: Ctx,
                         caller: Annotated[Caller, Depends(authenticated)]) -> DocumentList:
    async with uow:
        repo = CaseRepository(uow.session)
        row = await repo.row(case_id)
        if row is None or caller.locality not in (row.accepting_locality, *row.owners):
            raise NotFound(f"no case {case_id}")
        steps = await repo.timeline(case_id)
        item = await KnownItemRepository(uow.session).get(row.item_code)
        code = query_code(ctx.keys, row)
    files: CaseFiles = ctx.state["files"]
    link = status_link(request, case_id, code or "")
    entries: list[DocumentEntry] = []

    def entry(kind: Any, number: int | None, view: dict[str, Any]) -> DocumentEntry:
        return DocumentEntry(kind=kind, notice=number, name=view["name"], sha256=view["sha256"], size=view["size"],
                             href=f"/v1/cases/{case_id}/files/{view['sha256']}")

    if row.accepted_on is not None:
        view = await _kept(files, case_id, RECEIPT,
                           lambda: receipt_document(row, steps, item, ctx.localities, code or "", link), caller)
        entries.append(entry("receipt_notice", None, view))
    for notice in row.notices or []:
        number = int(notice["number"])
        view = await _kept(files, case_id, f"一次性告知书-{number}",
                           lambda n=notice: notice_document(row, n, item, ctx.localities, code or "", link), caller)
        entries.append(entry("one_time_notice", number, view))
    return DocumentList(case_id=case_id, documents=entries)
