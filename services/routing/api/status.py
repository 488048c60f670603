"""The applicant's status query: case number plus query code, no token, in plain words, masked.

The receipt notice carries the case number and its query code (and the QR code of this link), so an
applicant, a kiosk or a mini-program reads where the case stands without a locality's credential. Every
wrong pair (no such case, wrong code, a case without a code) answers the same 404; the wrong pairs from
one source address are counted in routing's own table (``status_query_failures``, shared/throttle.py, as
the token endpoint counts failed logins) and past ``TONGBAN_THROTTLE_ADDRESS_FAILURES`` in a window of
``TONGBAN_THROTTLE_WINDOW_SECONDS`` the endpoint answers 429 with ``Retry-After`` before it looks.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from services.routing.service import today
from services.routing.store import CaseRepository, CaseRow, status_query_failures
from services.routing.store_reference import KnownItemRepository
from services.routing.window import query_code
from shared import clock
from shared.api_types import Timestamp
from shared.problems import NotFound
from shared.service import ServiceContext, get_context, get_uow
from shared.throttle import Attempt, Throttle, TooManyAttempts
from shared.uow import UnitOfWork

public_status = APIRouter(prefix="/v1/status", tags=["status"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]

STATUS_WORDS = {
    "submitted": "已提交，等待窗口受理 / submitted, waiting for the window to accept it",
    "accepted": "窗口已受理 / accepted at the window",
    "forwarded": "材料已转送办理地 / the materials are on their way to the handling locality",
    "received": "办理地已收到材料 / the handling locality received the materials",
    "under_review": "办理地审核中 / under review",
    "supplement_requested": "需要补正材料，请查看一次性告知书 / materials are needed: see the one-time notice",
    "supplemented": "已补正，等待继续审核 / supplemented, waiting for the review to go on",
    "approved": "审核通过 / approved",
    "rejected": "未予批准 / not approved",
    "result_issued": "办理结果已出具，正在送达 / the result is issued and on its way",
    "result_delivered": "办理结果已送达 / the result was delivered",
    "closed": "已办结 / closed",
    "withdrawn": "已撤回 / withdrawn",
    "result_revoked": "告知承诺不实，办理结果已撤销 / a commitment was found false: the result is revoked",
    "terminated": "告知承诺不实，办理已终止 / a commitment was found false: the case was ended",
}
ACTION_WORDS = {
    "submit": "提交申请 / application submitted", "accept": "窗口受理 / accepted at the window",
    "forward": "材料转送 / materials sent on", "receive": "办理地收件 / materials received",
    "start_review": "开始审核 / review started", "request_supplement": "一次性告知补正 / supplement requested",
    "supplement": "补正材料 / materials supplemented", "approve": "审核通过 / approved",
    "reject": "不予批准 / not approved", "issue_result": "出具结果 / result issued",
    "deliver_result": "结果送达 / result delivered", "hand_over_result": "窗口送达结果 / result handed over",
    "close": "办结 / closed", "withdraw": "撤回 / withdrawn",
    "revoke_result": "撤销办理结果 / result revoked", "terminate": "终止办理 / case ended",
}
NO_PAIR = "no case with this case number and query code"


class StatusStep(BaseModel):
    """One step of the case, in words."""

    at: Timestamp
    words: str


class StatusView(BaseModel):
    """Where a case stands, in plain words, for the applicant (masked)."""

    case_number: str
    item: str = Field(description="The item's code and Chinese name.")
    applicant: str = Field(description="Masked, as on every answer.")
    status: str
    words: str = Field(description="The status in plain words (Chinese / English).")
    accepted_on: date | None
    due_on: date | None = Field(description="Due date in working days (paused during supplements).")
    overdue: bool
    missing: list[str] = Field(description="An open one-time notice: each material to bring, and why.")
    timeline: list[StatusStep]


def status_throttle(ctx: ServiceContext) -> Throttle:
    """The status query's throttle (counts in routing's own database, shared by its replicas)."""
    return Throttle(status_query_failures, ctx.settings.throttle_window_seconds)


async def case_by_query_code(uow: UnitOfWork, ctx: ServiceContext, request: Request, case_id: str,
                             code: str) -> CaseRow:
    """The case a number and query code name, in ``uow``'s open transaction: 429 while the caller's address
    is blocked, the uniform 404 for every wrong pair (counted against the address, committed at once)."""
    throttle = status_throttle(ctx)
    address = request.client.host if request.client else "-"
    attempts = [Attempt("address:" + address[:100], ctx.settings.throttle_address_failures, audit=False)]
    now = clock.current().now().timestamp()
    try:
        await throttle.refuse_if_blocked(uow.session, attempts, now)
    except TooManyAttempts:
        await uow.commit()
        raise
    row = await CaseRepository(uow.session).row(case_id) if len(case_id) <= 36 else None
    expected = query_code(ctx.keys, row) if row is not None else None
    if row is None or expected is None or not hmac.compare_digest(expected.encode(), code.strip().upper().encode()):
        await throttle.failed(uow.session, attempts, now)
        await uow.commit()
        raise NotFound(NO_PAIR)
    return row


@public_status.get("/{case_id}", summary="Where a case stands, by case number and query code (no token)",
                   responses={404: {"description": "the same answer for every wrong pair"},
                              429: {"description": "too many wrong pairs from this address; see Retry-After"}})
async def status_query(case_id: Annotated[str, Path(max_length=64)], request: Request, uow: Uow, ctx: Ctx,
                       code: Annotated[str, Query(min_length=1, max_length=32,
                                                  description="The query code on the receipt notice.")]) -> StatusView:
    async with uow:
        row = await case_by_query_code(uow, ctx, request, case_id, code)
        repo = CaseRepository(uow.session)
        steps = await repo.timeline(case_id)
        item = await KnownItemRepository(uow.session).get(row.item_code)
    open_notice = next((n for n in row.notices or [] if n.get("answers") is None), None)
    return StatusView(
        case_number=row.id, item=f"{row.item_code} {item.name_zh}".strip() if item else row.item_code,
        applicant=row.applicant_masked, status=row.status, words=STATUS_WORDS.get(row.status, row.status),
        accepted_on=row.accepted_on, due_on=row.due_on,
        overdue=bool(row.due_on and not row.finished_on and today() > row.due_on),
        missing=[f"{x['material']}：{x['reason']}" for x in open_notice["lines"]] if open_notice else [],
        timeline=[StatusStep(at=s.at, words=ACTION_WORDS.get(s.action, s.action)) for s in steps])
