"""What delivery's routes share: dependencies, finding a waybill of the caller's, the logger."""


from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends

from services.delivery.domain import (
    Waybill,
    s10_problem,
)
from services.delivery.store import WaybillRepository
from shared.auth import Caller, Role, authenticated, require
from shared.problems import NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.delivery")

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]
Officer = Annotated[Caller, Depends(require(Role.DEPARTMENT_OFFICER))]
Staff = Annotated[Caller, Depends(require(Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER))]
CarrierCaller = Annotated[Caller, Depends(require(Role.CARRIER))]
Operator = Annotated[Caller, Depends(require(Role.OPERATOR, Role.MAINTAINER))]


def number_or_422(number: str) -> None:
    problem = s10_problem(number)
    if problem:
        raise Problem(f"{number}: {problem}", status=422, slug="invalid-tracking-number",
                      title="Invalid tracking number")


async def party_waybill(uow: UnitOfWork, number: str, caller: Caller, lock: bool = False) -> Waybill:
    number_or_422(number)
    waybills = WaybillRepository(uow.session)
    waybill = await (waybills.get_for_update(number) if lock else waybills.get(number))
    if waybill is None or not waybill.involves(caller.locality):
        raise NotFound(f"no waybill {number}")
    return waybill


