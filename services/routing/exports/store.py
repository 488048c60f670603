"""The queries of the case export: a locality's cases in a period, their steps and their items' codes."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.store import CasePartyRow, CaseRow, KnownItemRow, TimelineRow


async def cases_in_period(session: AsyncSession, locality: str, since: datetime | None, until: datetime | None,
                          status: str | None, after: tuple[datetime, str] | None, limit: int) -> list[CaseRow]:
    """The cases ``locality`` is party to, submitted in ``[since, until)``, oldest first, after a position."""
    query = (select(CaseRow)
             .where(CaseRow.id.in_(select(CasePartyRow.case_id).where(CasePartyRow.locality == locality)))
             .order_by(CaseRow.submitted_at, CaseRow.id).limit(limit))
    if since is not None:
        query = query.where(CaseRow.submitted_at >= since)
    if until is not None:
        query = query.where(CaseRow.submitted_at < until)
    if status:
        query = query.where(CaseRow.status == status)
    if after is not None:
        at, case_id = after
        query = query.where(or_(CaseRow.submitted_at > at, and_(CaseRow.submitted_at == at, CaseRow.id > case_id)))
    return list(await session.scalars(query))


async def steps_of(session: AsyncSession, case_ids: list[str]) -> dict[str, list[TimelineRow]]:
    """The timelines of several cases, each in order."""
    out: dict[str, list[TimelineRow]] = defaultdict(list)
    if not case_ids:
        return out
    rows = await session.scalars(select(TimelineRow).where(TimelineRow.case_id.in_(case_ids))
                                 .order_by(TimelineRow.case_id, TimelineRow.sequence, TimelineRow.id))
    for row in rows:
        out[row.case_id].append(row)
    return out


async def items_of(session: AsyncSession, codes: set[str]) -> dict[str, KnownItemRow]:
    """Routing's copies of the named items."""
    if not codes:
        return {}
    rows = await session.scalars(select(KnownItemRow).where(KnownItemRow.code.in_(sorted(codes))))
    return {r.code: r for r in rows}
