"""Routing's table of evaluations and their rectifications, and its repository."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, String, Text, UniqueConstraint, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.evaluations.domain import Appeal, CallBack, Evaluation, Level, Rectification
from services.routing.store import Base
from shared.bounded_json import loads_json


class EvaluationRow(Base):
    """One evaluation of a case through one channel; its rectification's columns when it was poor."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("case_id", "channel", name="uq_evaluations_case_channel"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    item_code: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    """Masked (identity and phone numbers) before it is stored."""
    responsible_locality: Mapped[str] = mapped_column(String(6), index=True)
    involved: Mapped[list[str]] = mapped_column(JSON, default=list)
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    given_on: Mapped[date] = mapped_column(Date)
    rectification_status: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    opened_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    call_backs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    appeal: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


def _appeal_dict(appeal: Appeal | None) -> dict[str, Any] | None:
    if appeal is None:
        return None
    return {"reason": appeal.reason, "by_client": appeal.by_client, "at": appeal.at.isoformat(),
            "decision": appeal.decision, "decision_reason": appeal.decision_reason, "decided_by": appeal.decided_by,
            "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None}


def _appeal_of(data: dict[str, Any] | None) -> Appeal | None:
    if data is None:
        return None
    return Appeal(reason=data["reason"], by_client=data["by_client"], at=datetime.fromisoformat(data["at"]),
                  decision=data.get("decision"), decision_reason=data.get("decision_reason", ""),
                  decided_by=data.get("decided_by", ""),
                  decided_at=datetime.fromisoformat(data["decided_at"]) if data.get("decided_at") else None)


def to_evaluation(row: EvaluationRow) -> Evaluation:
    """The aggregate of a row."""
    rectification = None
    if row.rectification_status is not None:
        assert row.opened_on is not None and row.due_on is not None
        rectification = Rectification(
            locality=row.responsible_locality, opened_on=row.opened_on, due_on=row.due_on,
            provisional=row.provisional, status=row.rectification_status,  # type: ignore[arg-type]
            call_backs=tuple(CallBack(at=datetime.fromisoformat(c["at"]), by_client=c["by_client"],
                                      reached=bool(c["reached"]), note=c["note"]) for c in row.call_backs or []),
            outcome=row.outcome or "", closed_on=row.closed_on, overdue_notified=row.overdue_notified,
            appeal=_appeal_of(row.appeal))
    return Evaluation(
        id=row.id, case_id=row.case_id, item_code=row.item_code, channel=row.channel,  # type: ignore[arg-type]
        level=Level(row.level), reasons=tuple(row.reasons or ()), comment=row.comment or "",
        responsible_locality=row.responsible_locality, given_at=row.given_at, given_on=row.given_on,
        rectification=rectification, involved=tuple(row.involved or ()))


def write(row: EvaluationRow, evaluation: Evaluation) -> None:
    """Copy the aggregate's state onto its row."""
    row.case_id, row.channel, row.item_code = evaluation.case_id, evaluation.channel, evaluation.item_code
    row.level, row.reasons, row.comment = evaluation.level.value, list(evaluation.reasons), evaluation.comment
    row.responsible_locality, row.involved = evaluation.responsible_locality, list(evaluation.involved)
    row.given_at, row.given_on = evaluation.given_at, evaluation.given_on
    r = evaluation.rectification
    if r is None:
        row.rectification_status = None
        return
    row.rectification_status, row.opened_on, row.due_on, row.provisional = r.status, r.opened_on, r.due_on, \
        r.provisional
    row.call_backs = [{"at": c.at.isoformat(), "by_client": c.by_client, "reached": c.reached, "note": c.note}
                      for c in r.call_backs]
    row.outcome, row.closed_on, row.overdue_notified = r.outcome, r.closed_on, r.overdue_notified
    row.appeal = _appeal_dict(r.appeal)


class EvaluationRepository:
    """Evaluations in routing's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def row(self, evaluation_id: str, for_update: bool = False) -> EvaluationRow | None:
        """One evaluation's row."""
        query = select(EvaluationRow).where(EvaluationRow.id == evaluation_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def of_case(self, case_id: str) -> list[EvaluationRow]:
        """A case's evaluations (at most one per channel)."""
        return list(await self.session.scalars(
            select(EvaluationRow).where(EvaluationRow.case_id == case_id).order_by(EvaluationRow.given_at)))

    def add(self, evaluation: Evaluation) -> EvaluationRow:
        """A new row for a new evaluation."""
        row = EvaluationRow(id=evaluation.id)
        write(row, evaluation)
        self.session.add(row)
        return row

    async def open_rectifications(self) -> list[EvaluationRow]:
        """Every rectification still open (the scan's work), locked."""
        return list(await self.session.scalars(
            select(EvaluationRow).where(EvaluationRow.rectification_status == "open").with_for_update()))

    async def of_locality(self, locality: str, item_code: str | None) -> list[EvaluationRow]:
        """The evaluations a locality answers for (of one item, or all)."""
        query = select(EvaluationRow).where(EvaluationRow.responsible_locality == locality)
        if item_code:
            query = query.where(EvaluationRow.item_code == item_code)
        return list(await self.session.scalars(query))

    async def page(self, locality: str | None, rectification: str | None, today: date, limit: int,
                   after: tuple[datetime, str] | None) -> list[EvaluationRow]:
        """A page of evaluations (of the locality responsible, or all), oldest first, after a position."""
        query = select(EvaluationRow)
        if locality is not None:
            query = query.where(EvaluationRow.responsible_locality == locality)
        if rectification == "none":
            query = query.where(EvaluationRow.rectification_status.is_(None))
        elif rectification == "overdue":
            query = query.where(EvaluationRow.rectification_status == "open", EvaluationRow.due_on < today)
        elif rectification is not None:
            query = query.where(EvaluationRow.rectification_status == rectification)
        if after is not None:
            at, last_id = after
            query = query.where(or_(EvaluationRow.given_at > at,
                                    and_(EvaluationRow.given_at == at, EvaluationRow.id > last_id)))
        query = query.order_by(EvaluationRow.given_at, EvaluationRow.id).limit(limit)
        return list(await self.session.scalars(query))


def encode_cursor(row: EvaluationRow, filters: str) -> str:
    """An opaque cursor after ``row``, bound to the list's filters."""
    raw = json.dumps([row.given_at.isoformat(), row.id, filters]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, filters: str) -> tuple[datetime, str]:
    """The position a cursor names; ValueError when it is not one of ours or was made for other filters."""
    try:
        at, last_id, made_with = loads_json(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = datetime.fromisoformat(at), str(last_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if made_with != filters:
        raise ValueError("the cursor was made for other filters (locality, rectification); start again without one")
    return position
