"""Routing's tables of case files: the files, their downloads (the audit), legal holds, purges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.domain.files import FileFact, FileKind
from services.routing.files.crypto import Sealing
from services.routing.store import Base
from shared.crypto import AeadName


class CaseFileRow(Base):
    """A file of a case: what it is, where its sealed object lives, how to open it."""

    __tablename__ = "case_files"
    __table_args__ = (UniqueConstraint("case_id", "kind", "sha256", name="uq_case_files_case_kind_sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The SM3 digest of the bytes, computed as they arrived under the national suite (None otherwise)."""
    material: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    object_key: Mapped[str] = mapped_column(String(200), unique=True)
    key_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    nonce_prefix: Mapped[bytes] = mapped_column(LargeBinary)
    header_length: Mapped[int] = mapped_column(Integer)
    cipher: Mapped[str] = mapped_column(String(16), server_default=AeadName.AES_256_GCM.value)
    """What the object is sealed with (``A256GCM`` or ``SM4GCM``): the reader takes it from here."""
    uploaded_by_locality: Mapped[str] = mapped_column(String(6))
    uploaded_by_client: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def sealing(self) -> Sealing:
        """How the object was sealed."""
        return Sealing(self.key_id, self.wrapped_key, self.nonce_prefix, self.header_length, AeadName(self.cipher))

    @property
    def fact(self) -> FileFact:
        """What the rules need of it."""
        return FileFact(self.sha256, FileKind(self.kind))


class FileDownloadRow(Base):
    """One download of a case file: who, which file, which case, when (routing's own audit of files)."""

    __tablename__ = "case_file_downloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    file_id: Mapped[str] = mapped_column(String(36))
    sha256: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locality: Mapped[str] = mapped_column(String(6))
    client_id: Mapped[str] = mapped_column(String(64))
    byte_range: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LegalHoldRow(Base):
    """A legal hold on a case's files: the retention purge leaves them while it stands."""

    __tablename__ = "case_file_holds"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    by_locality: Mapped[str] = mapped_column(String(6))
    by_client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FilePurgeRow(Base):
    """The record of a retention purge of one case's files."""

    __tablename__ = "case_file_purges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    files: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    sha256s: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FileRepository:
    """Case files in routing's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_case(self, case_id: str, include_purged: bool = False) -> list[CaseFileRow]:
        """A case's files in the order they came."""
        query = select(CaseFileRow).where(CaseFileRow.case_id == case_id)
        if not include_purged:
            query = query.where(CaseFileRow.purged_at.is_(None))
        return list(await self.session.scalars(query.order_by(CaseFileRow.uploaded_at, CaseFileRow.id)))

    async def find(self, case_id: str, sha256: str, kind: str | None = None) -> CaseFileRow | None:
        """The (unpurged) file of a case with this hash (of one kind, or the first of any)."""
        query = select(CaseFileRow).where(CaseFileRow.case_id == case_id, CaseFileRow.sha256 == sha256,
                                          CaseFileRow.purged_at.is_(None))
        if kind:
            query = query.where(CaseFileRow.kind == kind)
        return (await self.session.scalars(query.order_by(CaseFileRow.uploaded_at).limit(1))).first()

    async def total_size(self, case_id: str) -> int:
        """Bytes of a case's files."""
        total = await self.session.scalar(select(func.coalesce(func.sum(CaseFileRow.size), 0)).where(
            CaseFileRow.case_id == case_id, CaseFileRow.purged_at.is_(None)))
        return int(total or 0)

    async def object_keys(self, prefix: str) -> set[str]:
        """Object keys that a row names (purged or not: a purged row's object is deleted by the purge)."""
        rows = await self.session.scalars(select(CaseFileRow.object_key).where(CaseFileRow.object_key.startswith(
            prefix)))
        return set(rows)

    def add_download(self, **values: Any) -> None:
        """Record a download."""
        self.session.add(FileDownloadRow(**values))

    async def downloads(self, case_id: str) -> list[FileDownloadRow]:
        """Every download of a case's files, in order."""
        return list(await self.session.scalars(select(FileDownloadRow).where(FileDownloadRow.case_id == case_id)
                                               .order_by(FileDownloadRow.id)))

    async def hold(self, case_id: str) -> LegalHoldRow | None:
        """The legal hold on a case, if one stands."""
        return await self.session.get(LegalHoldRow, case_id)

    async def cases_with_files(self) -> list[str]:
        """Cases that still have unpurged files."""
        rows = await self.session.scalars(select(CaseFileRow.case_id).where(CaseFileRow.purged_at.is_(None))
                                          .distinct())
        return list(rows)
