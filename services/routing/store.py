"""Tables and repositories of the routing service (its own database)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer, MetaData, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.routing.domain import ApplicantRef, Case, CaseStatus
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    """Declarative base of the routing service's own metadata."""

    metadata = MetaData()


class KnownItemRow(Base):
    """Routing's copy of a catalogue item, kept fresh by the catalogue's events."""

    __tablename__ = "known_items"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    area: Mapped[str] = mapped_column(String(64), default="")
    modes: Mapped[list[str]] = mapped_column(JSON)
    ownership_rule: Mapped[str] = mapped_column(String(64))
    committed_days: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column()
    revision: Mapped[int] = mapped_column(Integer)


class CaseRow(Base):
    """A cross-locality case."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), index=True)
    mode: Mapped[str] = mapped_column(String(40))
    accepting_locality: Mapped[str] = mapped_column(String(6), index=True)
    owning_locality: Mapped[str] = mapped_column(String(6), index=True)
    applicant_kind: Mapped[str] = mapped_column(String(16))
    applicant_digest: Mapped[str] = mapped_column(String(64), index=True)
    applicant_masked: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    waybill_numbers: Mapped[list[str]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


def _case(row: CaseRow) -> Case:
    return Case(
        id=row.id,
        item_code=row.item_code,
        mode=row.mode,
        accepting_locality=row.accepting_locality,
        owning_locality=row.owning_locality,
        applicant=ApplicantRef(row.applicant_kind, row.applicant_digest, row.applicant_masked),
        status=CaseStatus(row.status),
        sequence=row.sequence,
        waybill_numbers=tuple(row.waybill_numbers),
    )


class CaseRepository:
    """Cases in routing's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, case_id: str) -> Case | None:
        """The case ``case_id``, or None."""
        row = await self.session.get(CaseRow, case_id)
        return _case(row) if row else None

    async def get_for_update(self, case_id: str) -> Case | None:
        """The case ``case_id`` locked for this transaction (PostgreSQL), or None."""
        row = await self.session.get(CaseRow, case_id, with_for_update=True)
        return _case(row) if row else None

    async def submitted_at(self, case_id: str) -> datetime | None:
        """When the case was submitted."""
        row = await self.session.get(CaseRow, case_id)
        return row.submitted_at if row else None

    async def add(self, case: Case) -> None:
        """Store a new case."""
        now = datetime.now(UTC)
        self.session.add(
            CaseRow(
                id=case.id,
                item_code=case.item_code,
                mode=case.mode,
                accepting_locality=case.accepting_locality,
                owning_locality=case.owning_locality,
                applicant_kind=case.applicant.kind,
                applicant_digest=case.applicant.digest,
                applicant_masked=case.applicant.masked,
                status=case.status.value,
                sequence=case.sequence,
                waybill_numbers=list(case.waybill_numbers),
                submitted_at=now,
                updated_at=now,
            )
        )

    async def update(self, case: Case) -> None:
        """Store a case's new status and waybills."""
        row = await self.session.get(CaseRow, case.id)
        if row is None:
            raise KeyError(case.id)
        row.status = case.status.value
        row.sequence = case.sequence
        row.waybill_numbers = list(case.waybill_numbers)
        row.updated_at = datetime.now(UTC)


class KnownItemRepository:
    """Routing's view of the catalogue."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> KnownItemRow | None:
        """The item as routing last heard of it."""
        return await self.session.get(KnownItemRow, code)

    async def apply(
        self, code: str, revision: int, published: bool, **fields: object
    ) -> bool:
        """Record an item revision; an older or repeated revision changes nothing."""
        row = await self.session.get(KnownItemRow, code)
        if row is not None and row.revision >= revision:
            return False
        if row is None:
            row = KnownItemRow(code=code, area="", modes=[], ownership_rule="", committed_days=0,
                               published=published, revision=revision)
            self.session.add(row)
        row.revision, row.published = revision, published
        for key, value in fields.items():
            setattr(row, key, value)
        return True
