"""The panels: event rates, the case funnel, deadlines, case files, deliveries, agreements, dead letters, lag."""


from __future__ import annotations

import time
from datetime import UTC, date, datetime

from fastapi import APIRouter

from services.dashboard.api.common import (
    Ctx,
    Operator,
)
from services.dashboard.api.schemas import (
    AgreementsPanel,
    DeadLettersPanel,
    DeadlinesPanel,
    DeliveriesPanel,
    FilesPanel,
    FunnelPanel,
    LagPanel,
    RatesPanel,
)
from services.dashboard.domain import (
    deadline_panel,
    epoch_minute,
    funnel,
    rate_series,
)
from services.dashboard.lag import LagReader
from services.dashboard.store import utc
from services.dashboard.store_read_model import ReadModel

router = APIRouter(prefix="/api", tags=["dashboard"])


# --------------------------------------------------------------------------- panels


@router.get("/panels/rates", summary="Events per minute and locality, and per type, over the last hour")
async def rates(viewer: Operator, ctx: Ctx) -> RatesPanel:
    now = epoch_minute(datetime.now(UTC))
    async with ctx.sessionmaker() as session:
        rows = await ReadModel(session).rate_rows(viewer, now - 59)
    return RatesPanel.model_validate(rate_series(rows, now, viewer.visible(ctx.localities.codes)))


@router.get("/panels/funnel", summary="Cases by status")
async def case_funnel(viewer: Operator, ctx: Ctx) -> FunnelPanel:
    async with ctx.sessionmaker() as session:
        counts = await ReadModel(session).status_counts(viewer)
    return FunnelPanel.model_validate({"statuses": funnel(counts), "total": sum(counts.values())})


@router.get("/panels/deadlines", summary="Cases due soon and overdue per owner")
async def deadlines(viewer: Operator, ctx: Ctx) -> DeadlinesPanel:
    async with ctx.sessionmaker() as session:
        model = ReadModel(session)
        rows = await model.deadline_rows(viewer)
        late = await model.late_deadlines(viewer)
    return DeadlinesPanel.model_validate({
        "owners": deadline_panel(rows, viewer.visible(ctx.localities.codes)),
        "cases": [{"case_id": d.case_id, "owner": d.owner, "state": d.state, "due_on": _date(d.due_on),
                   "provisional": d.provisional} for d in late],
    })


def _date(text: str | None) -> date | None:
    """The date a deadline event named (a date, or the date of a time); None when it named none readable."""
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


@router.get("/panels/files", summary="Per case: how many files are in and whether they are complete (never content)")
async def case_files(viewer: Operator, ctx: Ctx) -> FilesPanel:
    async with ctx.sessionmaker() as session:
        rows = await ReadModel(session).file_counts(viewer)
    return FilesPanel.model_validate({"cases": [
        {"case_id": r.case_id, "status": r.status, "accepting_locality": r.accepting_locality,
         "owning_localities": list(r.owning_localities or ()), "files_in": r.files_in or 0,
         "complete": r.files_complete} for r in rows]})


@router.get("/panels/deliveries", summary="Waybills in exception or late")
async def deliveries(viewer: Operator, ctx: Ctx) -> DeliveriesPanel:
    async with ctx.sessionmaker() as session:
        model = ReadModel(session)
        rows = await model.exceptions(viewer)
        by_status = await model.waybill_status_counts(viewer)
    return DeliveriesPanel.model_validate({
        "exceptions": [
            {"waybill_number": r.waybill_number, "case_id": r.case_id, "flow": r.flow,
             "sender_locality": r.sender_locality, "receiver_locality": r.receiver_locality, "status": r.status,
             "exception": r.exception, "late": r.late, "reason": r.reason,
             "updated_at": utc(r.updated_at) if r.updated_at else None}
            for r in rows
        ],
        "by_status": by_status,
        "total": sum(by_status.values()),
    })


@router.get("/panels/agreements", summary="Agreements and their signatures")
async def agreements(viewer: Operator, ctx: Ctx) -> AgreementsPanel:
    async with ctx.sessionmaker() as session:
        found = await ReadModel(session).agreements(viewer)
    return AgreementsPanel.model_validate({"agreements": [
        {"agreement_id": a.agreement_id, "status": a.status, "parties": list(a.parties),
         "signed_parties": list(a.signed_parties), "unsigned_parties": list(a.unsigned_parties),
         "last_change": a.last_change, "last_party": a.last_party, "reason": a.reason,
         "updated_at": a.updated_at}
        for a in found
    ]})


@router.get("/panels/dead-letters", summary="Dead letters by reason and consumer group")
async def dead_letters(viewer: Operator, ctx: Ctx) -> DeadLettersPanel:
    async with ctx.sessionmaker() as session:
        rows = await ReadModel(session).dead_letter_counts(viewer)
    rows.sort(key=lambda r: (-r[2], r[0], r[1]))
    return DeadLettersPanel.model_validate({
        "total": sum(r[2] for r in rows),
        "reasons": [{"reason_class": c, "group": g, "count": n, "example": ex, "last_at": at}
                    for c, g, n, ex, at in rows],
    })


@router.get("/panels/lag", summary="Consumer lag per service and topic")
async def lag(viewer: Operator, ctx: Ctx) -> LagPanel:
    reader: LagReader = ctx.state["lag"]
    result = await reader.read()
    visible = set(viewer.visible(ctx.localities.codes))
    topic_of = {ctx.localities.topic(code): code for code in ctx.localities.codes}
    rows = [
        {"group": r.group, "service": r.group.removeprefix("tongban-"), "topic": r.topic,
         "locality": topic_of.get(r.topic), "lag": r.lag, "partitions": r.partitions, "committed": r.committed,
         "end": r.end}
        for r in result["rows"] if topic_of.get(r.topic) in visible
    ]
    return LagPanel.model_validate({"source": result["source"], "rows": rows, "error": result["error"],
                                    "at": result["at"], "age_seconds": round(time.time() - result["at"], 1)})
