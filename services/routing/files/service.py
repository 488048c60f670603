"""Use cases of case files: stream a file in, hand it out, and keep the store tidy.

An upload is checked against the case first (who, when, which declared hash), then streamed: each
chunk is hashed, sniffed, sealed and sent to the object store as it arrives. Only when the whole
object is stored and its hash equals the declared one is the row that names it written, with its
event, in one unit of work; a crash in between leaves at most an object no row names, which the
sweeper removes after a grace time.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.requests import ClientDisconnect

from services.routing.domain import Case
from services.routing.domain.files import (
    CLOSED,
    FileKind,
    FileRuleBroken,
    NotAParty,
    NotDeclared,
    check_reader,
    check_transition,
    check_upload,
    declared_sm3,
    missing_materials,
    normalise_name,
    purge_due,
)
from services.routing.files.crypto import Sealer, cipher_range, open_range
from services.routing.files.sniff import ACCEPTED, RefusedContent, Sniffer
from services.routing.files.store import CaseFileRow, FilePurgeRow, FileRepository, LegalHoldRow
from services.routing.store import CaseRepository, CaseRow, to_case
from shared.auth import Caller
from shared.contracts.files import CaseFilesPurged, CaseMaterialAdded, ResultDocumentIssued
from shared.crypto import AeadName, Hasher, HashName, derive_key, suite
from shared.keys import KeySet
from shared.problems import Conflict, NotFound, Problem
from shared.settings import Settings
from shared.storage import ObjectMissing, ObjectStore, StoreUnavailable
from shared.uow import UnitOfWork

FILE_KEY = "file-seal"
"""Routing's own key (shared/keys.py) that wraps the data key of every case file."""

log = logging.getLogger("tongban.routing.files")
PREFIX = "cases/"


class StoreDown(Problem):
    """The object store is away: nothing was registered; retry."""

    status, slug, title = 503, "store-unavailable", "Object store unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})


class TooLarge(Problem):
    """Over the size cap of one file or of a case's file."""

    status, slug, title = 413, "file-too-large", "File too large"


def _refuse(exc: Exception) -> Problem:
    """The problem a domain refusal is answered with."""
    if isinstance(exc, NotAParty):
        return NotFound(f"no case {exc}")
    if isinstance(exc, NotDeclared):
        return Problem(str(exc), status=422, slug="material-not-declared", title="Material not declared")
    if isinstance(exc, RefusedContent):
        return Problem(str(exc), status=415, slug="content-refused", title="Content refused")
    return Conflict(str(exc), slug="file-not-allowed", title="File not allowed now")


def aware(moment: datetime) -> datetime:
    """A timestamp in UTC (SQLite gives them back without their zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def file_view(row: CaseFileRow) -> dict[str, Any]:
    """A case file as routing answers about it (never its content)."""
    return {"id": row.id, "case_id": row.case_id, "kind": row.kind, "sha256": row.sha256, "sm3": row.sm3,
            "material": row.material, "name": row.name, "content_type": row.content_type, "size": row.size,
            "verified": True, "uploaded_by": row.uploaded_by_locality,
            "uploaded_at": aware(row.uploaded_at).isoformat(), "key_id": row.key_id, "cipher": row.cipher}


async def _party_case(uow: UnitOfWork, case_id: str, locality: str, for_update: bool = False) -> tuple[CaseRow, Case]:
    row = await CaseRepository(uow.session).row(case_id, for_update=for_update)
    if row is None:
        raise NotFound(f"no case {case_id}")
    case = to_case(row)
    try:
        check_reader(case, locality)
    except NotAParty as exc:
        raise _refuse(exc) from exc
    return row, case


async def transition_gate(uow: UnitOfWork, case: Case, action: str, locality: str,
                          detail: dict[str, Any]) -> list[str]:
    """The file's say on an allowed transition (409 when files are missing); the result documents' hashes."""
    if action not in case.allowed_actions(locality):
        return []  # the life cycle refuses it first
    files = await FileRepository(uow.session).of_case(case.id)
    try:
        check_transition(case, action, [f.fact for f in files], list(detail.get("material_hashes") or []))
    except FileRuleBroken as exc:
        raise Conflict(str(exc), slug="files-missing", title="Files missing",
                       missing=missing_materials(case, [f.fact for f in files])) from exc
    return [f.sha256 for f in files if f.kind == FileKind.RESULT]


@dataclass
class Upload:
    """What a caller sends: which file of which case, and its bytes."""

    case_id: str
    sha256: str
    kind: FileKind
    name: str
    declared_length: int | None
    body: AsyncIterator[bytes]


def _check_digest(name: str, declared: str | None, received: str | None) -> None:
    """422 when the bytes do not hash to the declared digest (nothing declared: nothing to check)."""
    if declared and received != declared:
        raise Problem(f"the bytes hash to {received} ({name}), not to the declared {declared}; nothing was kept",
                      status=422, slug="hash-mismatch", title="Hash mismatch", declared=declared, received=received)


async def _drain(body: AsyncIterator[bytes], limit: int) -> None:
    """Read what the client still sends (up to the cap) so that it reads the answer, not a reset connection."""
    with contextlib.suppress(Exception):
        async for chunk in body:
            limit -= len(chunk)
            if limit < 0:
                return


class CaseFiles:
    """The case files of routing: the object store and the keys that seal files."""

    def __init__(self, store: ObjectStore, settings: Settings, uow: Callable[[], UnitOfWork], keys: KeySet) -> None:
        self.store = store
        self.settings = settings
        self.uow = uow
        self.keys = keys
        """Routing's own ``file-seal`` key: its current version wraps new files' data keys, older ones unwrap."""

    def key_of(self, key_id: str, cipher: AeadName) -> bytes:
        """The wrapping key of a version of ``file-seal`` for a cipher (HKDF-SHA256 for AES-256, HKDF-SM3 for
        SM4); rotation adds a version, old files keep theirs."""
        version = self.keys.get(key_id)
        if version is None:
            raise LookupError(f"routing's file-seal key no longer holds version {key_id!r}")
        return derive_key(cipher, version.secret, "tongban-case-files-v1")

    # ----------------------------------------------------------------------- upload

    async def upload(self, caller: Caller, upload: Upload) -> tuple[int, dict[str, Any]]:
        """Stream a file into the case; 201 with its view (200 when the same file is in already)."""
        limit = self.settings.file_max_bytes
        async with self.uow() as uow:
            _row, case = await _party_case(uow, upload.case_id, caller.locality)
            try:
                check_upload(case, caller.locality, upload.kind, upload.sha256)
            except (FileRuleBroken, NotDeclared) as exc:
                raise _refuse(exc) from exc
            files = FileRepository(uow.session)
            existing = await files.find(upload.case_id, upload.sha256, upload.kind.value)
            if existing is not None:
                return 200, file_view(existing)
            room = self.settings.case_files_max_bytes - await files.total_size(upload.case_id)
            expected_sm3 = declared_sm3(case, upload.kind, upload.sha256)
        if upload.declared_length is not None and upload.declared_length > min(limit, room):
            raise TooLarge(f"{upload.declared_length} bytes: a file holds at most {limit} bytes and this case's "
                           f"file has {max(room, 0)} bytes left")
        file_id = str(uuid.uuid4())
        key = f"{PREFIX}{upload.case_id}/{file_id}"
        size, content_type, sm3, sealer = await self._stream(upload, key, file_id, min(limit, room), expected_sm3)
        try:
            return await self._register(caller, upload, key, file_id, size, content_type, sm3, sealer)
        except BaseException:
            with contextlib.suppress(Exception):  # else the sweeper removes it
                await self.store.delete(key)
            raise

    async def _stream(self, upload: Upload, key: str, file_id: str, limit: int,
                      expected_sm3: str | None) -> tuple[int, str, str | None, Sealer]:
        """Hash (SHA-256, and SM3 under the national suite or when declared), sniff, seal and store the bytes as
        they come; nothing stays when anything fails."""
        digest, sniffer = Hasher(HashName.SHA256), Sniffer()
        national = suite(self.settings.crypto_suite).hash is HashName.SM3
        sm3 = Hasher(HashName.SM3) if national or expected_sm3 else None
        sealer = Sealer(file_id, self.keys.current.id, self.key_of, self.keys.cipher)
        size, judged = 0, False
        try:
            writer = await self.store.writer(key)
        except StoreUnavailable as exc:
            raise StoreDown(f"the object store is not reachable: {exc}") from exc
        try:
            async for chunk in upload.body:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"more than {limit} bytes: over the size cap of a file or of this case's file")
                digest.update(chunk)
                if sm3 is not None:
                    sm3.update(chunk)
                sniffer.feed(chunk)
                if not judged and sniffer.decided:
                    sniffer.judge_head()
                    judged = True
                sealed = sealer.feed(chunk)
                if sealed:
                    await writer.write(sealed)
            content_type = sniffer.content_type()
            sm3_hex = None if sm3 is None else sm3.hexdigest()
            _check_digest("SHA-256", upload.sha256, digest.hexdigest())
            _check_digest("SM3", expected_sm3, sm3_hex)
            await writer.write(sealer.finish())
            await writer.commit()
        except RefusedContent as exc:
            await writer.abort()
            await _drain(upload.body, limit - size)
            raise _refuse(exc) from exc
        except StoreUnavailable as exc:
            await writer.abort()
            await _drain(upload.body, limit - size)
            raise StoreDown(f"the object store went away during the upload; nothing was registered: {exc}") from exc
        except ClientDisconnect as exc:
            await writer.abort()
            raise Problem("the client went away before the whole file came; nothing was kept", status=400,
                          slug="upload-interrupted", title="Upload interrupted") from exc
        except BaseException:
            await writer.abort()
            raise
        return size, content_type, sm3_hex, sealer

    async def _register(self, caller: Caller, upload: Upload, key: str, file_id: str, size: int, content_type: str,
                        sm3: str | None, sealer: Sealer) -> tuple[int, dict[str, Any]]:
        """The row that names the stored object and its event, in one unit of work."""
        async with self.uow() as uow:
            _row, case = await _party_case(uow, upload.case_id, caller.locality, for_update=True)
            try:  # the case may have moved on while the bytes came
                material = check_upload(case, caller.locality, upload.kind, upload.sha256)
            except (FileRuleBroken, NotDeclared) as exc:
                raise _refuse(exc) from exc
            files = FileRepository(uow.session)
            if await files.total_size(case.id) + size > self.settings.case_files_max_bytes:
                raise TooLarge(f"this case's files would pass {self.settings.case_files_max_bytes} bytes")
            seal = sealer.sealing
            row = CaseFileRow(
                id=file_id, case_id=case.id, kind=upload.kind.value, sha256=upload.sha256, sm3=sm3, material=material,
                name=normalise_name(upload.name, ACCEPTED[content_type]), content_type=content_type, size=size,
                object_key=key, key_id=seal.key_id, wrapped_key=seal.wrapped_key, nonce_prefix=seal.nonce_prefix,
                header_length=seal.header_length, cipher=seal.cipher.value, uploaded_by_locality=caller.locality,
                uploaded_by_client=caller.client_id, uploaded_at=datetime.now(UTC))
            uow.session.add(row)
            await uow.session.flush()
            everything = await files.of_case(case.id)
            if upload.kind is FileKind.RESULT:
                event: Any = ResultDocumentIssued(case_id=case.id, sha256=upload.sha256, sm3=sm3, size=size,
                                                  content_type=content_type, by_locality=caller.locality,
                                                  files_in=len(everything))
            else:
                event = CaseMaterialAdded(case_id=case.id, kind=upload.kind.value, sha256=upload.sha256, sm3=sm3,
                                          size=size, content_type=content_type, by_locality=caller.locality,
                                          files_in=len(everything),
                                          complete=not missing_materials(case, [f.fact for f in everything]))
            uow.publish(event, case.involved)
            view = file_view(row)
            try:
                await uow.commit()
            except IntegrityError:
                await uow.rollback()  # the same file raced in: keep the first, drop ours
                with contextlib.suppress(Exception):
                    await self.store.delete(key)
                same = await FileRepository(uow.session).find(upload.case_id, upload.sha256, upload.kind.value)
                if same is None:
                    raise
                return 200, file_view(same)
        return 201, view

    async def issue_document(self, case_id: str, data: bytes, name: str, label: str, locality: str,
                             client_id: str) -> dict[str, Any]:
        """Keep a document routing made for the applicant (``kind=notice``, ``label`` as its material) in the
        case file, sealed like every file; the same bytes twice are kept once."""
        import hashlib

        sha256 = hashlib.sha256(data).hexdigest()
        async with self.uow() as uow:
            existing = await FileRepository(uow.session).find(case_id, sha256, FileKind.NOTICE.value)
            if existing is not None:
                return file_view(existing)

        async def body() -> AsyncIterator[bytes]:
            yield data

        upload = Upload(case_id, sha256, FileKind.NOTICE, name, len(data), body())
        file_id = str(uuid.uuid4())
        key = f"{PREFIX}{case_id}/{file_id}"
        size, content_type, sm3, sealer = await self._stream(upload, key, file_id, self.settings.file_max_bytes,
                                                             None)
        try:
            async with self.uow() as uow:
                seal = sealer.sealing
                row = CaseFileRow(
                    id=file_id, case_id=case_id, kind=FileKind.NOTICE.value, sha256=sha256, sm3=sm3, material=label,
                    name=normalise_name(name, ACCEPTED[content_type]), content_type=content_type, size=size,
                    object_key=key, key_id=seal.key_id, wrapped_key=seal.wrapped_key, nonce_prefix=seal.nonce_prefix,
                    header_length=seal.header_length, cipher=seal.cipher.value, uploaded_by_locality=locality,
                    uploaded_by_client=client_id, uploaded_at=datetime.now(UTC))
                uow.session.add(row)
                view = file_view(row)
                try:
                    await uow.commit()
                except IntegrityError:
                    await uow.rollback()
                    with contextlib.suppress(Exception):
                        await self.store.delete(key)
                    same = await FileRepository(uow.session).find(case_id, sha256, FileKind.NOTICE.value)
                    if same is None:
                        raise
                    return file_view(same)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.store.delete(key)
            raise
        return view

    async def document(self, case_id: str, label: str) -> dict[str, Any] | None:
        """The document of this label routing issued for the case, if it did."""
        async with self.uow() as uow:
            found = [f for f in await FileRepository(uow.session).of_case(case_id)
                     if f.kind == FileKind.NOTICE.value and f.material == label]
        return file_view(found[-1]) if found else None

    # ----------------------------------------------------------------------- reading

    async def listing(self, caller: Caller, case_id: str) -> dict[str, Any]:
        """A case's files and whether the declared materials are all in."""
        async with self.uow() as uow:
            _row, case = await _party_case(uow, case_id, caller.locality)
            files = await FileRepository(uow.session).of_case(case_id)
            hold = await FileRepository(uow.session).hold(case_id)
        missing = missing_materials(case, [f.fact for f in files])
        return {"case_id": case_id, "files": [file_view(f) for f in files], "complete": not missing,
                "missing": missing, "total_bytes": sum(f.size for f in files),
                "legal_hold": None if hold is None else {"reason": hold.reason, "by": hold.by_locality,
                                                         "at": aware(hold.at).isoformat()}}

    async def open(self, caller: Caller, case_id: str, sha256: str,
                   byte_range: tuple[int, int] | None) -> tuple[CaseFileRow, int, int, AsyncIterator[bytes]]:
        """A file's row, the range served and its plaintext; the download is recorded once the store answers."""
        async with self.uow() as uow:
            await _party_case(uow, case_id, caller.locality)
            row = await FileRepository(uow.session).find(case_id, sha256)
        if row is None:
            raise NotFound(f"case {case_id} has no file with SHA-256 {sha256}")
        start, end = byte_range if byte_range else (0, row.size - 1)
        _first, lo, hi = cipher_range(row.size, row.header_length, start, end)
        stream = open_range(self.store.read(row.object_key, lo, hi), row.id, row.size, row.sealing, self.key_of,
                            start, end)
        try:
            first = await anext(stream, b"")
        except StoreUnavailable as exc:
            raise StoreDown(f"the object store is not reachable: {exc}") from exc
        except ObjectMissing as exc:
            log.error("a case file's object is missing", extra={"case_id": case_id, "object_key": row.object_key})
            raise NotFound(f"the stored object of file {sha256} is missing") from exc
        async with self.uow() as uow:
            FileRepository(uow.session).add_download(
                case_id=case_id, file_id=row.id, sha256=sha256, sm3=row.sm3, locality=caller.locality,
                client_id=caller.client_id, byte_range=f"{start}-{end}", at=datetime.now(UTC))
            await uow.commit()

        async def body() -> AsyncIterator[bytes]:
            yield first
            async for data in stream:
                yield data

        return row, start, end, body()

    async def downloads(self, caller: Caller, case_id: str) -> list[dict[str, Any]]:
        """The audit lines of a case's downloads."""
        async with self.uow() as uow:
            await _party_case(uow, case_id, caller.locality)
            rows = await FileRepository(uow.session).downloads(case_id)
        return [{"at": aware(r.at).isoformat(), "locality": r.locality, "client_id": r.client_id, "file_id": r.file_id,
                 "sha256": r.sha256, "sm3": r.sm3, "case_id": r.case_id, "range": r.byte_range} for r in rows]

    # ----------------------------------------------------------------------- retention

    async def set_hold(self, caller: Caller, case_id: str, reason: str | None) -> dict[str, Any]:
        """Place (reason given) or lift (None) a legal hold on a case's files."""
        async with self.uow() as uow:
            await _party_case(uow, case_id, caller.locality)
            hold = await FileRepository(uow.session).hold(case_id)
            if reason is None:
                if hold is not None:
                    await uow.session.delete(hold)
            elif hold is None:
                uow.session.add(LegalHoldRow(case_id=case_id, reason=reason, by_locality=caller.locality,
                                             by_client=caller.client_id, at=datetime.now(UTC)))
            else:
                hold.reason, hold.by_locality, hold.at = reason, caller.locality, datetime.now(UTC)
            await uow.commit()
        return {"case_id": case_id, "legal_hold": reason is not None, "reason": reason}

    async def purge(self, now: datetime) -> dict[str, int]:
        """Remove the files of cases closed longer than the retention time (not those under a legal hold)."""
        counts = {"cases": 0, "files": 0, "held": 0}
        async with self.uow() as uow:
            case_ids = await FileRepository(uow.session).cases_with_files()
        for case_id in case_ids:
            async with self.uow() as uow:
                row = await CaseRepository(uow.session).row(case_id, for_update=True)
                if row is None or to_case(row).status not in CLOSED:
                    continue
                files = FileRepository(uow.session)
                held = await files.hold(case_id) is not None
                if not purge_due(aware(row.updated_at), self.settings.file_retention_days, now, held):
                    counts["held"] += held
                    continue
                doomed = await files.of_case(case_id)
                for f in doomed:
                    await self.store.delete(f.object_key)  # StoreUnavailable: this round stops, the next retries
                    f.purged_at = now
                doomed.sort(key=lambda f: f.sha256)
                hashes, sm3s = [f.sha256 for f in doomed], [f.sm3 for f in doomed]
                total = sum(f.size for f in doomed)
                uow.session.add(FilePurgeRow(case_id=case_id, files=len(doomed), bytes=total,
                                             sha256s=",".join(hashes), at=now))
                uow.publish(CaseFilesPurged(case_id=case_id, sha256s=hashes, sm3s=sm3s if any(sm3s) else None,
                                            bytes=total), to_case(row).involved)
                await uow.commit()
                counts["cases"] += 1
                counts["files"] += len(doomed)
        return counts

    async def sweep(self, now: datetime, grace_seconds: float) -> dict[str, int]:
        """Delete objects that no row names and that are older than the grace time (crashed uploads)."""
        cutoff = now - timedelta(seconds=grace_seconds)
        async with self.uow() as uow:
            named = await FileRepository(uow.session).object_keys(PREFIX)
        counts = {"seen": 0, "removed": 0}
        async for item in self.store.list(PREFIX):
            counts["seen"] += 1
            if item.key not in named and item.modified <= cutoff:
                await self.store.delete(item.key)
                counts["removed"] += 1
        return counts
