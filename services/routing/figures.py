"""Figures of a locality's cases per item: counts by status, median handling time, on-time rate."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from services.routing.domain import WorkingCalendar
from services.routing.store import CaseRepository, CaseRow, LocalStatisticsRow
from shared.uow import UnitOfWork


async def figures(uow: UnitOfWork, locality: str, item: str | None, calendar: WorkingCalendar) -> dict[str, Any]:
    """Counts by status, median handling time in working days and on-time rate, per item."""
    from sqlalchemy import select

    rows = await CaseRepository(uow.session).of_item_or_locality(locality, item)
    by_item: dict[str, list[CaseRow]] = {}
    for row in rows:
        by_item.setdefault(row.item_code, []).append(row)
    local = {(r.item_code): r for r in await uow.session.scalars(
        select(LocalStatisticsRow).where(LocalStatisticsRow.locality == locality))}
    result = []
    for code, group in sorted(by_item.items()):
        done = [r for r in group if r.accepted_on and r.finished_on and r.due_on]
        days = [calendar.working_days_between(r.accepted_on, r.finished_on) for r in done]  # type: ignore[arg-type]
        on_time = [r for r in done if r.finished_on <= r.due_on]  # type: ignore[operator]
        entry: dict[str, Any] = {
            "item_code": code,
            "cases": len(group),
            "by_status": dict(Counter(r.status for r in group)),
            "median_working_days": statistics.median(days) if days else None,
            "on_time_rate": round(len(on_time) / len(done), 4) if done else None,
        }
        if code in local:
            lr = local[code]
            entry["local_only"] = {"period": lr.period, "cases": lr.cases,
                                   "median_working_days": lr.median_working_days, "on_time_rate": lr.on_time_rate}
        result.append(entry)
    return {"locality": locality, "items": result}

