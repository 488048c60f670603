"""The read model's side of the handling figures: the cases handled since a moment, per owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dashboard.domain import Viewer
from services.dashboard.handling import Handling, parse_due
from services.dashboard.store import CasePartyRow, CaseRow, DeadlineRow, utc


def _handled_since(viewer: Viewer, since: datetime) -> Select[Any]:
    query = select(CaseRow.case_id).where(CaseRow.handled_at >= since, CaseRow.accepted_at.is_not(None))
    if not viewer.regional:
        parties = select(CasePartyRow.case_id).where(CasePartyRow.locality == viewer.locality)
        query = query.where(CaseRow.case_id.in_(parties))
    return query


async def handled_cases(session: AsyncSession, viewer: Viewer, since: datetime) -> list[Handling]:
    """One :class:`Handling` per owner of every case the viewer may see that was decided since ``since``."""
    chosen = _handled_since(viewer, since)
    cases = (await session.execute(select(CaseRow).where(CaseRow.case_id.in_(chosen)))).scalars().all()
    due: dict[tuple[str, str], str | None] = {
        (case_id, owner): due_on
        for case_id, owner, due_on in await session.execute(
            select(DeadlineRow.case_id, DeadlineRow.owner, DeadlineRow.due_on).where(DeadlineRow.case_id.in_(chosen)))
    }
    found = []
    for case in cases:
        if case.accepted_at is None or case.handled_at is None:
            continue
        for owner in case.owning_localities or ():
            found.append(Handling(case.case_id, owner, utc(case.accepted_at), utc(case.handled_at),
                                  case.handled_status or "", parse_due(due.get((case.case_id, owner)))))
    return found
