"""The rules of a case's file. Pure: no I/O.

Who may add which file when: the accepting window adds the electronic materials declared at
acceptance (each must hash to its declared SHA-256) until the owner starts its review, and the
supplement's files while a supplement is outstanding; the lead owner adds result documents when
it decides. In the fully-online and joint modes an owner may not start its review before every
declared electronic material is in the file, and the window may not hand in a supplement before
its files are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.routing.domain import Case, CaseStatus

ONLINE_MODES = frozenset({"fully_online", "joint_handling"})
"""Modes whose owners decide on the electronic file alone (nothing travels by post)."""
CLOSED = frozenset({CaseStatus.CLOSED, CaseStatus.WITHDRAWN})
"""Statuses after which the retention time of a case's files runs."""


class FileKind(StrEnum):
    """What a case file is."""

    MATERIAL = "material"
    SUPPLEMENT = "supplement"
    RESULT = "result"
    NOTICE = "notice"
    """A document routing issues for the applicant (receipt notice, one-time notice): never uploaded."""


class FileRuleBroken(ValueError):
    """A file the case's state or the caller's side does not allow now (409)."""


class NotDeclared(ValueError):
    """A material file whose hash was not declared for the case (422)."""


class NotAParty(LookupError):
    """The caller's locality has no part in the case: it is told nothing (404)."""


@dataclass(frozen=True)
class FileFact:
    """What the rules need of a stored file."""

    sha256: str
    kind: FileKind


MATERIAL_STATUSES = frozenset({CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.FORWARDED, CaseStatus.RECEIVED})
RESULT_STATUSES = frozenset({CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.RESULT_ISSUED})


def check_reader(case: Case, locality: str) -> None:
    """Only the accepting locality and the owners see a case's files."""
    if not case.sides_of(locality):
        raise NotAParty(case.id)


def check_upload(case: Case, locality: str, kind: FileKind, sha256: str) -> str:
    """Whether ``locality`` may add a file of ``kind`` now; the declared material's name (or the kind)."""
    check_reader(case, locality)
    if kind is FileKind.NOTICE:
        raise FileRuleBroken("notices are issued by routing (GET /v1/cases/{id}/documents), not uploaded")
    if kind is FileKind.RESULT:
        if locality != case.owning_locality:
            raise FileRuleBroken(f"result documents are issued by the lead owner {case.owning_locality}")
        if case.status not in RESULT_STATUSES:
            raise FileRuleBroken(f"a result document is added once the case is decided; it is {case.status}")
        return "result"
    if locality != case.accepting_locality:
        raise FileRuleBroken(f"materials are handed in at the accepting window {case.accepting_locality}")
    if kind is FileKind.SUPPLEMENT:
        if case.status is not CaseStatus.SUPPLEMENT_REQUESTED:
            raise FileRuleBroken(f"supplement files are added while a supplement is requested; the case is "
                                 f"{case.status}")
        return "supplement"
    if case.status not in MATERIAL_STATUSES:
        raise FileRuleBroken(f"materials are added before the review starts; the case is {case.status}")
    for material in case.materials:
        if material.form == "electronic" and material.sha256 == sha256:
            return material.name
    raise NotDeclared(f"no electronic material of case {case.id} was declared with SHA-256 {sha256}")


def declared_sm3(case: Case, kind: FileKind, sha256: str) -> str | None:
    """The SM3 digest the window declared for the material of this hash, which its file must also match."""
    if kind is not FileKind.MATERIAL:
        return None
    return next((m.sm3 for m in case.materials if m.form == "electronic" and m.sha256 == sha256 and m.sm3), None)


def missing_materials(case: Case, files: list[FileFact]) -> list[str]:
    """Names of the declared electronic materials whose file is not in yet."""
    have = {f.sha256 for f in files if f.kind is FileKind.MATERIAL}
    added = have | {f.sha256 for f in files if f.kind is FileKind.SUPPLEMENT}  # a supplement's own materials
    return [m.name for m in case.materials if m.form == "electronic" and m.sha256 and not m.licence
            and m.sha256 not in (added if m.supplement else have)]


def check_transition(case: Case, action: str, files: list[FileFact], supplement_hashes: list[str]) -> None:
    """The file's say on a transition: review and supplement wait for their files in the online modes."""
    if case.mode not in ONLINE_MODES:
        return
    if action == "start_review":
        missing = missing_materials(case, files)
        if missing:
            raise FileRuleBroken("the review starts once every electronic material is in the case file; missing: "
                                 + ", ".join(missing))
    if action == "supplement":
        have = {f.sha256 for f in files if f.kind is FileKind.SUPPLEMENT}
        absent = [h for h in supplement_hashes if h not in have]
        if absent:
            raise FileRuleBroken("the supplement's files are not in the case file: " + ", ".join(absent))


_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]+")


def normalise_name(name: str, extension: str) -> str:
    """A display name: NFC, no folders or control characters, at most 120 characters, the sniffed extension."""
    text = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    text = _UNSAFE.sub("", text).strip().strip(".")
    text = re.sub(r"\s+", " ", text)
    stem = text.rsplit(".", 1)[0] if "." in text else text
    stem = stem[:120].strip() or "file"
    return stem + extension


def purge_due(closed_at: datetime | None, retention_days: int, now: datetime, held: bool) -> bool:
    """Whether a closed case's files have been kept long enough (and no legal hold stops the purge)."""
    return closed_at is not None and not held and now >= closed_at + timedelta(days=retention_days)
