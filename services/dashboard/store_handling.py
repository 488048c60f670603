"""The read model's side of the handling figures: the cases handled since a moment, per owner.

Two column queries (cases, then their owners' due dates), joined on the case id in the database
rather than loaded as objects: the panel reads weeks of decided cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dashboard.domain import Viewer
from services.dashboard.domain.handling import Handling, parse_due
from services.dashboard.store import CasePartyRow, CaseRow, DeadlineRow, utc

SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def _scoped(query: SelectT, viewer: Viewer, since: datetime) -> SelectT:
    """``query`` (over cases) limited to those decided since ``since`` that the viewer may see."""
    scoped = query.where(CaseRow.handled_at >= since, CaseRow.accepted_at.is_not(None))
    if not viewer.regional:
        scoped = scoped.join(CasePartyRow, (CasePartyRow.case_id == CaseRow.case_id)
                             & (CasePartyRow.locality == viewer.locality))
    return scoped


async def handled_cases(session: AsyncSession, viewer: Viewer, since: datetime) -> list[Handling]:
    """One :class:`Handling` per owner of every case the viewer may see that was decided since ``since``."""
    cases = _scoped(select(CaseRow.case_id, CaseRow.owning_localities, CaseRow.accepted_at, CaseRow.handled_at,
                           CaseRow.handled_status), viewer, since)
    deadlines = _scoped(select(DeadlineRow.case_id, DeadlineRow.owner, DeadlineRow.due_on)
                        .join(CaseRow, CaseRow.case_id == DeadlineRow.case_id), viewer, since)
    due = {(case_id, owner): due_on for case_id, owner, due_on in await session.execute(deadlines)}
    found = []
    for case_id, owners, accepted_at, handled_at, status in await session.execute(cases):
        if accepted_at is None or handled_at is None:
            continue
        for owner in owners or ():
            found.append(Handling(case_id, owner, utc(accepted_at), utc(handled_at), status or "",
                                  parse_due(due.get((case_id, owner)))))
    return found
