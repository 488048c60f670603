"""Routing's tables of commitments in place of proofs: the commitments with their verification, and the
applicants' records of commitments found false per item (keyed by the applicant's keyed hash, never the number)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Text, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.commitments.domain import ENDED, Commitment
from services.routing.store import Base, CaseRow

ENDED_STATUSES = [s.value for s in ENDED]


class CommitmentRow(Base):
    """An applicant's commitment, as one owner verifies it."""

    __tablename__ = "case_commitments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    item_code: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(6), index=True)
    accepting_locality: Mapped[str] = mapped_column(String(6))
    text: Mapped[str] = mapped_column(Text)
    """The commitment's exact text, as the applicant signed it."""
    replaces: Mapped[list[str]] = mapped_column(JSON)
    verify_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    verified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    verified_by: Mapped[str] = mapped_column(String(64), default="")
    overdue_told: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Whether ``CommitmentOverdue`` was published (once)."""
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FalseCommitmentRow(Base):
    """A commitment found false, against the applicant's file for the item (by keyed hash)."""

    __tablename__ = "false_commitments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    applicant_digest: Mapped[str] = mapped_column(String(64), index=True)
    applicant_key_id: Mapped[str] = mapped_column(String(32))
    item_code: Mapped[str] = mapped_column(String(32), index=True)
    commitment_id: Mapped[str] = mapped_column(String(36))
    case_id: Mapped[str] = mapped_column(String(36))
    owner: Mapped[str] = mapped_column(String(6))
    reason: Mapped[str] = mapped_column(Text)
    found_on: Mapped[date] = mapped_column(Date)


def to_commitment(row: CommitmentRow) -> Commitment:
    """The domain commitment of a row."""
    return Commitment(row.id, row.case_id, row.item_code, row.owner, row.accepting_locality, row.text,
                      tuple(row.replaces), row.verify_days, row.status, row.due_on, row.reason or "", row.verified_on)


class CommitmentRepository:
    """Commitments and the applicants' records of those found false."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, commitment: Commitment) -> None:
        """Store a new commitment."""
        self.session.add(CommitmentRow(
            id=commitment.id, case_id=commitment.case_id, item_code=commitment.item_code, owner=commitment.owner,
            accepting_locality=commitment.accepting_locality, text=commitment.text, replaces=list(commitment.replaces),
            verify_days=commitment.verify_days, status=commitment.status, due_on=commitment.due_on, reason="",
            verified_by="", overdue_told=False, recorded_at=datetime.now(UTC)))

    async def row(self, commitment_id: str, for_update: bool = False) -> CommitmentRow | None:
        """The row of a commitment."""
        return await self.session.get(CommitmentRow, commitment_id, with_for_update=for_update)

    @staticmethod
    def write(row: CommitmentRow, commitment: Commitment, by_client: str = "") -> None:
        """Copy a commitment's state onto its row."""
        row.status, row.due_on, row.reason = commitment.status, commitment.due_on, commitment.reason
        row.verified_on = commitment.verified_on
        if by_client:
            row.verified_by = by_client

    async def of_case(self, case_id: str, for_update: bool = False) -> list[CommitmentRow]:
        """A case's commitments."""
        query = select(CommitmentRow).where(CommitmentRow.case_id == case_id).order_by(CommitmentRow.id)
        if for_update:
            query = query.with_for_update()
        return list(await self.session.scalars(query))

    async def tasks(self, owner: str, status: str | None, after: tuple[str, str] | None,
                    limit: int) -> list[CommitmentRow]:
        """An owner's commitments with a due date (accepted cases), by due date then id."""
        query = select(CommitmentRow).where(CommitmentRow.owner == owner, CommitmentRow.due_on.is_not(None))
        if status is not None:
            query = query.where(CommitmentRow.status == status)
        if after is not None:
            due, last = date.fromisoformat(after[0]), after[1]
            query = query.where((CommitmentRow.due_on > due) | ((CommitmentRow.due_on == due) &
                                                                (CommitmentRow.id > last)))
        return list(await self.session.scalars(query.order_by(CommitmentRow.due_on, CommitmentRow.id).limit(limit)))

    async def overdue(self, today: date) -> list[CommitmentRow]:
        """Pending commitments past their due day, not yet told (a withdrawn or ended case's left out)."""
        return list(await self.session.scalars(
            select(CommitmentRow).join(CaseRow, CaseRow.id == CommitmentRow.case_id).where(
                CommitmentRow.status == "pending", CommitmentRow.due_on < today, CommitmentRow.overdue_told.is_(False),
                CaseRow.status.not_in(ENDED_STATUSES)).order_by(CommitmentRow.due_on, CommitmentRow.id).limit(500)))

    async def has_false_record(self, digests: list[str], item_code: str) -> bool:
        """Whether an applicant (any of its digests, one per key version) has a commitment found false for the item."""
        found = await self.session.scalar(select(FalseCommitmentRow.id).where(
            FalseCommitmentRow.applicant_digest.in_(digests), FalseCommitmentRow.item_code == item_code).limit(1))
        return found is not None

    def add_false_record(self, **values: Any) -> None:
        """Record a commitment found false against the applicant's file for the item."""
        self.session.add(FalseCommitmentRow(**values))
