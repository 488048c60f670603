"""REST API of case files: upload (streamed), list, download (Range), the download audit, legal holds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.convertors import StringConvertor, register_url_convertor

from services.routing.domain.files import FileKind
from services.routing.files.service import CaseFiles, Upload, aware
from services.routing.files.sniff import ACCEPTED
from shared.api_types import Timestamp, location
from shared.auth import Caller, Role, authenticated, require
from shared.problems import Problem
from shared.service import ServiceContext, get_context


class _Sha256(StringConvertor):
    """A path segment that is a SHA-256: ``/files/downloads`` is then no file's path (a PUT on it is a 405)."""

    regex = "[0-9a-f]{64}"


register_url_convertor("sha256", _Sha256())
files = APIRouter(prefix="/v1/cases/{case_id}/files", tags=["case files"])
maintenance = APIRouter(prefix="/v1/files", tags=["case files"])
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]
Uploader = Annotated[Caller, Depends(require(Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER))]
Holder = Annotated[Caller, Depends(require(Role.SUPERVISOR, Role.OPERATOR))]
Keeper = Annotated[Caller, Depends(require(Role.OPERATOR, Role.MAINTAINER))]
CaseId = Annotated[str, Path(max_length=36)]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file (its ETag)")]


class CaseFile(BaseModel):
    """A file of a case (never its content)."""

    id: str
    case_id: str
    kind: FileKind
    sha256: str
    sm3: str | None = Field(None, description="SM3 digest of its bytes, recorded under the national suite.")
    material: str = Field(description="The declared material it is (or `supplement`, `result`).")
    name: str
    content_type: str
    size: int
    verified: bool = Field(description="Its bytes hash to the declared SHA-256 (checked while they arrived).")
    uploaded_by: str
    uploaded_at: Timestamp
    key_id: str = Field(description="Id of the key that wraps the file's data key.")
    cipher: str = Field(description="What it is sealed with at rest: `A256GCM` (AES-256-GCM) or `SM4GCM`.")


class LegalHold(BaseModel):
    """A legal hold standing on a case's files."""

    reason: str
    by: str
    at: Timestamp


class CaseFileList(BaseModel):
    """A case's file: what is in, and whether every declared electronic material is."""

    case_id: str
    files: list[CaseFile]
    complete: bool
    missing: list[str]
    total_bytes: int
    legal_hold: LegalHold | None


class Download(BaseModel):
    """An audit line: one download."""

    at: Timestamp
    locality: str
    client_id: str
    file_id: str
    sha256: str
    sm3: str | None = None
    case_id: str
    range: str


class Downloads(BaseModel):
    """Every download of a case's files."""

    case_id: str
    downloads: list[Download]


class HoldIn(BaseModel):
    """Why a case's files must be kept past their retention time."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class HoldOut(BaseModel):
    """The legal hold as it now stands."""

    case_id: str
    legal_hold: bool
    reason: str | None


class PurgeCounts(BaseModel):
    """What a retention purge did."""

    cases: int
    files: int
    held: int


class SweepCounts(BaseModel):
    """What a sweep of unreferenced objects did."""

    seen: int
    removed: int


def case_files(ctx: ServiceContext) -> CaseFiles:
    """Routing's case files (made at start)."""
    found: CaseFiles = ctx.state["files"]
    return found


_BINARY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


@files.get("", response_model=CaseFileList, summary="The case's files and whether every declared material is in")
async def list_files(case_id: CaseId, ctx: Ctx, caller: Reader) -> dict[str, Any]:
    return await case_files(ctx).listing(caller, case_id)


@files.get("/downloads", response_model=Downloads, summary="Audit: every download of the case's files")
async def list_downloads(case_id: CaseId, ctx: Ctx, caller: Reader) -> dict[str, Any]:
    return {"case_id": case_id, "downloads": await case_files(ctx).downloads(caller, case_id)}


@files.put("/hold", response_model=HoldOut, summary="Place a legal hold: the retention purge leaves the files")
async def place_hold(case_id: CaseId, body: HoldIn, ctx: Ctx, caller: Holder) -> dict[str, Any]:
    return await case_files(ctx).set_hold(caller, case_id, body.reason)


@files.delete("/hold", response_model=HoldOut, summary="Lift the legal hold")
async def lift_hold(case_id: CaseId, ctx: Ctx, caller: Holder) -> dict[str, Any]:
    return await case_files(ctx).set_hold(caller, case_id, None)


@files.put("/{sha256:sha256}", status_code=status.HTTP_201_CREATED, response_model=CaseFile, openapi_extra=_BINARY,
           summary="Upload a file of the case (streamed; its SHA-256 must be the one in the path)",
           responses={200: {"model": CaseFile, "description": "the same file is in already"},
                      413: {"description": "over the size cap"}, 415: {"description": "not PDF, JPEG, PNG or OFD"},
                      422: {"description": "the bytes do not hash to the declared SHA-256"},
                      503: {"description": "the object store is away; nothing was registered"}})
async def upload(request: Request, case_id: CaseId, sha256: Sha256, ctx: Ctx, caller: Uploader,
                 kind: FileKind = FileKind.MATERIAL,
                 name: Annotated[str, Query(max_length=255, description="Display name (normalised)")] = "") \
        -> JSONResponse:
    # Content-Length is the transport's, not a parameter of the contract: a client declaring one it
    # does not send would leave the upload waiting for bytes that never come.
    length = request.headers.get("content-length", "")
    code, view = await case_files(ctx).upload(caller, Upload(case_id, sha256, kind, name,
                                                             int(length) if length.isdigit() else None,
                                                             request.stream()))
    headers = {"ETag": f'"{sha256}"'}
    if code == status.HTTP_201_CREATED:
        headers.update(location(f"/v1/cases/{case_id}/files/{sha256}"))
    return JSONResponse(CaseFile.model_validate(view).model_dump(mode="json"), status_code=code, headers=headers)


_FILE_BODY = {media: {"schema": {"type": "string", "format": "binary"}} for media in ACCEPTED}
"""A file's bytes, of one of the types case files hold."""
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range asked for (RFC 9110), None for the whole file; 416 when it cannot be served."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise Problem("only one range of the form bytes=START-END, START- or -SUFFIX is served", status=416,
                      slug="range-not-satisfiable", title="Range not satisfiable",
                      headers={"Content-Range": f"bytes */{size}"})
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise Problem(f"the file has {size} bytes", status=416, slug="range-not-satisfiable",
                      title="Range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return start, end


@files.get("/{sha256:sha256}", summary="Download a file (Range, ETag); each download is an audit line",
           response_class=StreamingResponse,
           responses={200: {"description": "the file", "content": _FILE_BODY},
                      206: {"description": "the range asked", "content": _FILE_BODY},
                      304: {"description": "the caller's copy is this one"},
                      416: {"description": "the range cannot be served (`Content-Range` gives the size)"}})
async def download(case_id: CaseId, sha256: Sha256, ctx: Ctx, caller: Reader,
                   range_: Annotated[str | None, Header(alias="Range", max_length=100)] = None,
                   if_none_match: Annotated[str | None, Header(max_length=200)] = None) -> Response:
    service = case_files(ctx)
    listing = await service.listing(caller, case_id)  # 404 for strangers, before anything else
    found = next((f for f in listing["files"] if f["sha256"] == sha256), None)
    etag = f'"{sha256}"'
    if found is not None and if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    wanted = parse_range(range_, found["size"]) if found is not None else None
    row, start, end, body = await service.open(caller, case_id, sha256, wanted)
    disposition = f"attachment; filename=\"{_ascii(row.name)}\"; filename*=UTF-8''{quote(row.name)}"
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Content-Disposition": disposition,
               "Content-Length": str(end - start + 1), "X-Content-Type-Options": "nosniff",
               "Last-Modified": aware(row.uploaded_at).strftime("%a, %d %b %Y %H:%M:%S GMT")}
    code = 200
    if wanted is not None:
        code = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{row.size}"
    return StreamingResponse(body, status_code=code, media_type=row.content_type, headers=headers)


def _ascii(name: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)


@maintenance.post("/purge", response_model=PurgeCounts,
                  summary="Purge the files of cases closed longer than the retention time (also periodic)")
async def purge(ctx: Ctx, _caller: Keeper) -> dict[str, int]:
    return await case_files(ctx).purge(datetime.now(UTC))


@maintenance.post("/sweep", response_model=SweepCounts,
                  summary="Remove stored objects no file names (left by crashed uploads; also periodic)")
async def sweep(ctx: Ctx, _caller: Keeper,
                grace_seconds: Annotated[float | None, Query(ge=0, le=86400 * 30)] = None) -> dict[str, int]:
    grace = ctx.settings.file_sweep_grace_seconds if grace_seconds is None else grace_seconds
    return await case_files(ctx).sweep(datetime.now(UTC), grace)


routers = [files, maintenance]
