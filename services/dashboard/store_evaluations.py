"""The dashboard's table of evaluations (好差评), folded from routing's evaluation events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.dashboard.domain import Viewer
from services.dashboard.domain.evaluations import EvaluationState, evaluation_panel, fold_evaluation
from services.dashboard.store import Base


class EvaluationRow(Base):
    """One evaluation as the panel counts it: level and rectification state, no personal data."""

    __tablename__ = "evaluations"

    evaluation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64))
    locality: Mapped[str] = mapped_column(String(16), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rectification: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[str | None] = mapped_column(String(10), nullable=True)


_FIELDS = ("case_id", "locality", "item_code", "level", "rectification", "due_on")


def _state(row: EvaluationRow) -> EvaluationState:
    return EvaluationState(row.evaluation_id, **{name: getattr(row, name) for name in _FIELDS})


async def fold_evaluation_event(session: AsyncSession, ce_type: str, data: Mapping[str, Any]) -> None:
    """Apply one of routing's evaluation events (``ce_type`` without its version)."""
    evaluation_id = data.get("evaluation_id")
    if not isinstance(evaluation_id, str):
        return
    row = await session.get(EvaluationRow, evaluation_id[:64])
    folded = fold_evaluation(_state(row) if row else None, ce_type, data)
    if folded is None:
        return
    if row is None:
        row = EvaluationRow(evaluation_id=folded.evaluation_id[:64])
        session.add(row)
    for name in _FIELDS:
        value = getattr(folded, name)
        setattr(row, name, value[:64] if isinstance(value, str) else value)


async def evaluation_figures(session: AsyncSession, viewer: Viewer, codes: list[str]) -> list[dict[str, Any]]:
    """The panel's rows for the localities the viewer sees."""
    visible = viewer.visible(codes)
    rows = await session.scalars(select(EvaluationRow).where(EvaluationRow.locality.in_(visible)))
    return evaluation_panel((_state(r) for r in rows), visible)
