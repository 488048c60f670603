"""Use cases of the evaluation: give it, call back, close, appeal, decide, scan for overdue, figures.

Each runs in the caller's unit of work: it loads through the repository, asks the aggregate
(``domain``), writes the row and adds the events (``uow.publish`` to the case's localities); the route
commits. A locality acts on the rectifications it is responsible for; a regional supervisor decides
appeals and sees every locality's.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime
from typing import Any, Literal

from services.routing.domain import WorkingCalendar
from services.routing.evaluations.domain import LEVEL_WORDS, CallBack, Evaluation, EvaluationRuleBroken, Level
from services.routing.evaluations.store import (
    EvaluationRepository,
    EvaluationRow,
    decode_cursor,
    encode_cursor,
    to_evaluation,
    write,
)
from services.routing.store import CaseRow
from shared import clock
from shared.auth import Caller, Role
from shared.contracts.evaluations import (
    AppealDecided,
    EvaluationGiven,
    RectificationClosed,
    RectificationOpened,
    RectificationOverdue,
)
from shared.masking import mask_text
from shared.problems import Forbidden, NotFound
from shared.uow import UnitOfWork


def _now() -> datetime:
    return clock.current().now()


def _today() -> date:
    return clock.current().today()


async def give(uow: UnitOfWork, calendar: WorkingCalendar, case: CaseRow, channel: str, level: str,
               reasons: list[str], comment: str) -> Evaluation:
    """The applicant's evaluation of ``case`` through ``channel`` (the query code was checked)."""
    repo = EvaluationRepository(uow.session)
    if any(r.channel == channel for r in await repo.of_case(case.id)):
        raise EvaluationRuleBroken(f"this case was evaluated through the {channel} channel already",
                                   slug="evaluation-exists", title="Evaluation exists", channel=channel)
    evaluation = Evaluation.give(
        id=str(uuid.uuid4()), case_id=case.id, item_code=case.item_code, channel=channel, level=level,
        reasons=reasons, comment=mask_text(comment), accepting_locality=case.accepting_locality,
        owners=tuple(case.owners), accepted=case.accepted_on is not None, given_at=_now(), given_on=_today(),
        calendar=calendar)
    repo.add(evaluation)
    uow.publish(EvaluationGiven(
        evaluation_id=evaluation.id, case_id=case.id, item_code=case.item_code, channel=evaluation.channel,
        level=evaluation.level.value, poor=evaluation.level.poor, reasons=list(evaluation.reasons),
        responsible_locality=evaluation.responsible_locality, given_on=evaluation.given_on),
        list(evaluation.involved))
    if evaluation.rectification is not None:
        uow.publish(RectificationOpened(
            evaluation_id=evaluation.id, case_id=case.id, item_code=case.item_code,
            locality=evaluation.responsible_locality, due_on=evaluation.rectification.due_on,
            provisional=evaluation.rectification.provisional), list(evaluation.involved))
    await uow.session.flush()
    return evaluation


async def _load(uow: UnitOfWork, caller: Caller, evaluation_id: str, *, responsible: bool,
                for_update: bool = True) -> tuple[EvaluationRow, Evaluation]:
    row = await EvaluationRepository(uow.session).row(evaluation_id, for_update=for_update)
    regional = caller.has(Role.REGIONAL_SUPERVISOR.value)
    if row is None or not (regional or caller.locality in (row.involved or [])):
        raise NotFound(f"no evaluation {evaluation_id}")
    if responsible and caller.locality != row.responsible_locality:
        raise Forbidden(f"{row.responsible_locality} answers for this evaluation, not {caller.locality}",
                        slug="not-responsible", title="Not the locality responsible",
                        responsible_locality=row.responsible_locality)
    return row, to_evaluation(row)


async def read(uow: UnitOfWork, caller: Caller, evaluation_id: str) -> Evaluation:
    """An evaluation, for the case's localities and the regional supervisors."""
    return (await _load(uow, caller, evaluation_id, responsible=False, for_update=False))[1]


async def listing(uow: UnitOfWork, caller: Caller, locality: str | None, rectification: str | None, limit: int,
                  cursor: str | None) -> tuple[list[Evaluation], str | None]:
    """A page of the evaluations a locality answers for (a regional supervisor: any locality's, or all)."""
    regional = caller.has(Role.REGIONAL_SUPERVISOR.value)
    if locality is not None and locality != caller.locality and not regional:
        raise Forbidden(f"a locality lists its own evaluations; {locality}'s are for the regional supervisors")
    chosen = locality if locality is not None or regional else caller.locality
    filters = f"{chosen}|{rectification}"
    try:
        after = decode_cursor(cursor, filters) if cursor else None
    except ValueError as exc:
        raise EvaluationRuleBroken(str(exc), status=422, slug="invalid-cursor", title="Invalid cursor") from exc
    rows = await EvaluationRepository(uow.session).page(chosen, rectification, _today(), limit + 1, after)
    more = len(rows) > limit
    rows = rows[:limit]
    return [to_evaluation(r) for r in rows], encode_cursor(rows[-1], filters) if more and rows else None


async def call_back(uow: UnitOfWork, caller: Caller, evaluation_id: str, reached: bool, note: str) -> Evaluation:
    """Record a call-back to the applicant (the note masked)."""
    row, evaluation = await _load(uow, caller, evaluation_id, responsible=True)
    record = CallBack(at=_now(), by_client=caller.client_id, reached=reached, note=mask_text(note.strip()))
    moved = evaluation.with_rectification(evaluation.rectifying().call_back(record))
    write(row, moved)
    return moved


async def close(uow: UnitOfWork, caller: Caller, evaluation_id: str, outcome: str) -> Evaluation:
    """Close the rectification with its outcome; on time when closed by its due date."""
    row, evaluation = await _load(uow, caller, evaluation_id, responsible=True)
    rectification = evaluation.rectifying().close(mask_text(outcome), _today())
    moved = evaluation.with_rectification(rectification)
    write(row, moved)
    assert rectification.closed_on is not None
    uow.publish(RectificationClosed(
        evaluation_id=moved.id, case_id=moved.case_id, item_code=moved.item_code, locality=rectification.locality,
        due_on=rectification.due_on, closed_on=rectification.closed_on, on_time=bool(rectification.on_time),
        call_backs=len(rectification.call_backs)), list(moved.involved))
    return moved


async def appeal(uow: UnitOfWork, caller: Caller, evaluation_id: str, reason: str) -> Evaluation:
    """The locality responsible appeals the evaluation as mistaken."""
    row, evaluation = await _load(uow, caller, evaluation_id, responsible=True)
    moved = evaluation.with_rectification(
        evaluation.rectifying().lodge_appeal(mask_text(reason), caller.client_id, _now()))
    write(row, moved)
    return moved


async def decide(uow: UnitOfWork, caller: Caller, evaluation_id: str, decision: Literal["upheld", "rejected"],
                 reason: str) -> Evaluation:
    """A regional supervisor's decision on the appeal."""
    row, evaluation = await _load(uow, caller, evaluation_id, responsible=False)
    rectification = evaluation.rectifying().decide_appeal(decision, mask_text(reason), caller.client_id, _now())
    moved = evaluation.with_rectification(rectification)
    write(row, moved)
    uow.publish(AppealDecided(evaluation_id=moved.id, case_id=moved.case_id, item_code=moved.item_code,
                              locality=rectification.locality, decision=decision,
                              decided_by_locality=caller.locality), list(moved.involved))
    return moved


async def scan_rectifications(uow: UnitOfWork, day: date) -> int:
    """Announce each open rectification past its due date, once; how many were announced."""
    count = 0
    for row in await EvaluationRepository(uow.session).open_rectifications():
        if row.overdue_notified or row.due_on is None or not day > row.due_on:
            continue
        row.overdue_notified = True
        uow.publish(RectificationOverdue(evaluation_id=row.id, case_id=row.case_id, item_code=row.item_code,
                                         locality=row.responsible_locality, due_on=row.due_on),
                    list(row.involved or [row.responsible_locality]))
        count += 1
    return count


async def figures(uow: UnitOfWork, locality: str, item_code: str | None, day: date) -> dict[str, Any]:
    """Per item of the locality responsible: the share of each level (annulled ones left out), rectifications."""
    by_item: dict[str, list[Evaluation]] = {}
    for row in await EvaluationRepository(uow.session).of_locality(locality, item_code):
        by_item.setdefault(row.item_code, []).append(to_evaluation(row))
    items = []
    for code, evaluations in sorted(by_item.items()):
        standing = [e for e in evaluations if not e.annulled]
        levels = Counter(e.level for e in standing)
        rectifications = [e.rectification for e in evaluations if e.rectification is not None]
        closed = [r for r in rectifications if r.status == "closed"]
        on_time = [r for r in closed if r.on_time]
        items.append({
            "item_code": code, "evaluations": len(standing), "annulled": len(evaluations) - len(standing),
            "levels": {level.value: levels.get(level, 0) for level in Level},
            "shares": {level.value: round(levels.get(level, 0) / len(standing), 4) if standing else None
                       for level in Level},
            "rectifications": {
                "open": sum(1 for r in rectifications if r.status == "open" and not r.overdue(day)),
                "overdue": sum(1 for r in rectifications if r.overdue(day)),
                "closed_on_time": len(on_time), "closed_late": len(closed) - len(on_time),
                "annulled": sum(1 for r in rectifications if r.status == "annulled"),
                "on_time_rate": round(len(on_time) / len(closed), 4) if closed else None,
            },
        })
    return {"locality": locality, "items": items, "level_words": {k.value: v for k, v in LEVEL_WORDS.items()}}
