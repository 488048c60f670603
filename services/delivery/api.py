"""REST API of the delivery service: waybills."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.delivery.domain import Waybill, is_s10
from services.delivery.store import WaybillRepository
from shared.auth import Caller, authenticated
from shared.problems import NotFound, Problem
from shared.service import get_uow
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/waybills", tags=["waybills"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Reader = Annotated[Caller, Depends(authenticated)]


def _involves(waybill: Waybill, caller: Caller) -> bool:
    return caller.locality in (waybill.sender_locality, waybill.receiver_locality)


class WaybillView(BaseModel):
    """A waybill."""

    number: str
    case_id: str
    flow: str
    sender_locality: str
    receiver_locality: str
    status: str

    @classmethod
    def of(cls, waybill: Waybill) -> WaybillView:
        """The view of a domain waybill."""
        return cls(**waybill.__dict__)


@router.get("", summary="The waybills of a case")
async def list_waybills(
    uow: Uow, caller: Reader, case_id: Annotated[str, Query(min_length=1, max_length=36)]
) -> list[WaybillView]:
    async with uow:
        found = await WaybillRepository(uow.session).of_case(case_id)
    return [WaybillView.of(w) for w in found if _involves(w, caller)]


@router.get("/{number}", summary="One waybill")
async def get_waybill(number: str, uow: Uow, caller: Reader) -> WaybillView:
    if not is_s10(number):
        raise Problem(f"{number} is not a valid S10 tracking number", status=422,
                      slug="invalid-tracking-number", title="Invalid tracking number")
    async with uow:
        waybill = await WaybillRepository(uow.session).get(number)
    if waybill is None or not _involves(waybill, caller):
        raise NotFound(f"no waybill {number}")
    return WaybillView.of(waybill)
