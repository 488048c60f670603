"""Case files' pure parts: the rules, the sniffing of bytes, the chunked sealing, the folder store."""

from __future__ import annotations

import hashlib
import io
import os
import random
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.routing.domain import ApplicantRef, Case, CaseStatus, Material
from services.routing.domain.files import (
    FileFact,
    FileKind,
    FileRuleBroken,
    NotAParty,
    NotDeclared,
    check_transition,
    check_upload,
    missing_materials,
    normalise_name,
    purge_due,
)
from services.routing.files.crypto import CHUNK, SealBroken, Sealer, cipher_range, open_range, stored_size
from services.routing.files.sniff import RefusedContent, Sniffer
from shared.crypto import Aead, AeadName
from shared.storage import FolderStore

Y, B, S = "310110", "341600", "320505"
H1, H2 = "a1" * 32, "b2" * 32


def case(status: CaseStatus = CaseStatus.FORWARDED, mode: str = "fully_online") -> Case:
    return Case(id="c-1", item_code="YRD-DA-0101", mode=mode, accepting_locality=Y, owners=(B,),
                applicant=ApplicantRef("resident", "d" * 64, "110105********002X"), status=status,
                materials=(Material("身份证", "electronic", H1), Material("户口簿", "electronic", H2),
                           Material("委托书", "paper")),
                parts=((B, status),) if status is not CaseStatus.SUBMITTED else ())


def test_who_may_add_which_file_when() -> None:
    assert check_upload(case(), Y, FileKind.MATERIAL, H1) == "身份证"
    with pytest.raises(NotDeclared):
        check_upload(case(), Y, FileKind.MATERIAL, "cc" * 32)
    with pytest.raises(FileRuleBroken):
        check_upload(case(), B, FileKind.MATERIAL, H1)  # the owner hands in no materials
    with pytest.raises(NotAParty):
        check_upload(case(), S, FileKind.MATERIAL, H1)
    with pytest.raises(FileRuleBroken):
        check_upload(case(CaseStatus.UNDER_REVIEW), Y, FileKind.MATERIAL, H1)
    with pytest.raises(FileRuleBroken):
        check_upload(case(), Y, FileKind.SUPPLEMENT, H1)
    assert check_upload(case(CaseStatus.SUPPLEMENT_REQUESTED), Y, FileKind.SUPPLEMENT, "cc" * 32) == "supplement"
    with pytest.raises(FileRuleBroken):
        check_upload(case(CaseStatus.UNDER_REVIEW), B, FileKind.RESULT, H1)
    assert check_upload(case(CaseStatus.APPROVED), B, FileKind.RESULT, "dd" * 32) == "result"
    with pytest.raises(FileRuleBroken):
        check_upload(case(CaseStatus.APPROVED), Y, FileKind.RESULT, "dd" * 32)


def test_review_waits_for_every_electronic_material_in_the_online_modes() -> None:
    one = [FileFact(H1, FileKind.MATERIAL)]
    assert missing_materials(case(CaseStatus.RECEIVED), one) == ["户口簿"]
    with pytest.raises(FileRuleBroken, match="户口簿"):
        check_transition(case(CaseStatus.RECEIVED), "start_review", one, [])
    check_transition(case(CaseStatus.RECEIVED), "start_review", [*one, FileFact(H2, FileKind.MATERIAL)], [])
    check_transition(case(CaseStatus.RECEIVED, "accepted_here_handled_there"), "start_review", [], [])
    with pytest.raises(FileRuleBroken):
        check_transition(case(CaseStatus.SUPPLEMENT_REQUESTED), "supplement", [], ["ee" * 32])
    check_transition(case(CaseStatus.SUPPLEMENT_REQUESTED), "supplement", [FileFact("ee" * 32, FileKind.SUPPLEMENT)],
                     ["ee" * 32])


def test_names_are_normalised_and_never_paths() -> None:
    assert normalise_name("../../etc/不动产权证书.PDF", ".pdf") == "不动产权证书.pdf"
    assert normalise_name("C:\\scans\\身份证  正反面.jpeg", ".jpg") == "身份证 正反面.jpg"
    assert normalise_name("\x00\x1f<>..", ".png") == "file.png"
    assert len(normalise_name("长" * 500 + ".pdf", ".pdf")) == 124


def test_retention_and_legal_hold() -> None:
    closed = datetime(2026, 1, 5, tzinfo=UTC)
    assert not purge_due(closed, 30, closed + timedelta(days=29), held=False)
    assert purge_due(closed, 30, closed + timedelta(days=30), held=False)
    assert not purge_due(closed, 30, closed + timedelta(days=300), held=True)
    assert not purge_due(None, 0, closed, held=False)


def _ofd(first: str = "OFD.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("Doc_0/Document.xml", os.urandom(9000))
        package.writestr(first, "<ofd:OFD xmlns:ofd=\"http://www.ofdspec.org/2016\"/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "expected"), [
    (b"%PDF-1.7\n" + b"x" * 5000, "application/pdf"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"x" * 100, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"x" * 100, "image/png"),
    (_ofd(), "application/ofd"),
    (_ofd("readme.txt"), None),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, None),
    (b"MZ\x90\x00" + b"\x00" * 100, None),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", None),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', None),
    (b"\x1f\x8b\x08\x00" + b"x" * 40, None),
    (b"", None),
])
def test_content_is_judged_by_its_bytes(data: bytes, expected: str | None) -> None:
    sniffer = Sniffer()
    for offset in range(0, len(data), 333):  # chunks that split the ZIP entry headers
        sniffer.feed(data[offset:offset + 333])
    if expected is None:
        with pytest.raises(RefusedContent):
            sniffer.content_type()
    else:
        assert sniffer.content_type() == expected


def _key(key_id: str, cipher: AeadName = AeadName.AES_256_GCM) -> bytes:
    return hashlib.sha256(key_id.encode()).digest()[:Aead.key_size(cipher)]


def _seal(data: bytes, file_id: str = "f-1", key_id: str = "k1") -> tuple[bytes, Sealer]:
    sealer, out, rng = Sealer(file_id, key_id, _key), bytearray(), random.Random(len(data))
    position = 0
    while position < len(data):
        step = rng.randint(1, 3 * CHUNK)
        out += sealer.feed(data[position:position + step])
        position += step
    return bytes(out + sealer.finish()), sealer


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), 5000):
        yield data[offset:offset + 5000]


async def _read(stored: bytes, sealer: Sealer, size: int, start: int, end: int, file_id: str = "f-1") -> bytes:
    _first, lo, hi = cipher_range(size, sealer.sealing.header_length, start, end)
    parts = [p async for p in open_range(_chunks(stored[lo:hi + 1]), file_id, size, sealer.sealing, _key, start, end)]
    return b"".join(parts)


@pytest.mark.parametrize("size", [1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 77])
async def test_sealed_in_chunks_and_ranges_open_only_what_they_touch(size: int) -> None:
    data = os.urandom(size)
    stored, sealer = _seal(data)
    assert len(stored) == stored_size(size, sealer.sealing.header_length)
    assert stored.startswith(b"TBF2\x07A256GCM\x02k1")
    assert size < 16 or data[:32] not in stored  # a byte or two may turn up in random ciphertext by chance
    assert await _read(stored, sealer, size, 0, size - 1) == data
    rng = random.Random(size)
    for _ in range(10):
        start = rng.randrange(size)
        end = rng.randrange(start, size)
        assert await _read(stored, sealer, size, start, end) == data[start:end + 1]


async def test_a_sealed_file_does_not_open_as_another_or_altered() -> None:
    data = os.urandom(3 * CHUNK)
    stored, sealer = _seal(data)
    with pytest.raises(SealBroken):
        await _read(stored, sealer, len(data), 0, 10, file_id="f-2")
    altered = bytearray(stored)
    altered[sealer.sealing.header_length + 5] ^= 1
    with pytest.raises(SealBroken):
        await _read(bytes(altered), sealer, len(data), 0, 10)
    # a new key id seals new files; the old ones still open with theirs
    newer, newer_sealer = _seal(data, key_id="k2")
    assert newer_sealer.sealing.key_id == "k2"
    assert await _read(newer, newer_sealer, len(data), 0, len(data) - 1) == data
    assert await _read(stored, sealer, len(data), 0, len(data) - 1) == data


async def test_folder_store_shows_an_object_only_once_committed(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "objects")
    await store.start()
    writer = await store.writer("cases/c-1/a")
    await writer.write(b"hello ")
    assert [o async for o in store.list("cases/")] == []
    await writer.write(b"world")
    await writer.commit()
    assert b"".join([c async for c in store.read("cases/c-1/a", 6, 10)]) == b"world"
    dropped = await store.writer("cases/c-1/b")
    await dropped.write(b"never")
    await dropped.abort()
    assert [o.key async for o in store.list("cases/")] == ["cases/c-1/a"]
    await store.delete("cases/c-1/a")
    assert [o async for o in store.list("cases/")] == []
    with pytest.raises(ValueError):
        await store.writer("../escape")


def test_the_dashboard_counts_a_case_s_files_from_routing_s_events() -> None:
    from services.dashboard.domain import apply_case_event

    at = datetime(2026, 12, 2, 9, tzinfo=UTC)
    case = apply_case_event(None, "cn.tongban.routing.case.submitted.v1",
                            {"case_id": "c-1", "accepting_locality": Y, "owning_localities": [B]}, at)
    added = apply_case_event(case, "cn.tongban.routing.case.material_added.v1",
                             {"case_id": "c-1", "files_in": 1, "complete": False, "sha256": H1, "size": 10}, at)
    assert added is not None and (added.files_in, added.files_complete) == (1, False)
    full = apply_case_event(added, "cn.tongban.routing.case.material_added.v1",
                            {"case_id": "c-1", "files_in": 2, "complete": True}, at)
    result = apply_case_event(full, "cn.tongban.routing.case.result_document_issued.v1",
                              {"case_id": "c-1", "files_in": 3}, at)
    assert result is not None and (result.files_in, result.files_complete) == (3, True)
    purged = apply_case_event(result, "cn.tongban.routing.case.files_purged.v1", {"case_id": "c-1"}, at)
    assert purged is not None and purged.files_in == 0
