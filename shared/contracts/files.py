"""Events of case files (published by routing, which owns them). Hashes and sizes, never content or names.

Under the national suite a file's event also carries its SM3 digest beside the SHA-256 (issue 19).
The field is optional and absent, not null, when there is none: an international deployment's
events are what they were, and a reader of version 1 takes both.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.envelope import Event, event_type

FileKind = Literal["material", "supplement", "result"]
Sm3 = Field(default=None, pattern=r"^[0-9a-f]{64}$", exclude_if=lambda value: value is None,
            description="SM3 digest of the file (GB/T 32905), under the national suite only.")


@event_type
class CaseMaterialAdded(Event):
    """A file entered a case's file: a material or a supplement from the window, checked against its hash."""

    type_name = "cn.tongban.routing.case.material_added"

    case_id: str
    kind: FileKind
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    sm3: str | None = Sm3
    size: int = Field(ge=0)
    content_type: str
    by_locality: str
    files_in: int = Field(ge=0)
    """How many files the case now holds."""
    complete: bool
    """Whether every electronic material declared at acceptance is in."""

    def subject(self) -> str:
        return self.case_id


@event_type
class ResultDocumentIssued(Event):
    """The lead owner put a result document (decision letter, licence, refusal) in the case's file."""

    type_name = "cn.tongban.routing.case.result_document_issued"

    case_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    sm3: str | None = Sm3
    size: int = Field(ge=0)
    content_type: str
    by_locality: str
    files_in: int = Field(ge=0)

    def subject(self) -> str:
        return self.case_id


@event_type
class CaseFilesPurged(Event):
    """A closed case's files were removed at the end of their retention time."""

    type_name = "cn.tongban.routing.case.files_purged"

    case_id: str
    sha256s: list[str]
    sm3s: list[str | None] | None = Field(default=None, exclude_if=lambda value: value is None,
                                          description="SM3 digests in the order of sha256s (national suite only).")
    bytes: int = Field(ge=0)

    def subject(self) -> str:
        return self.case_id
