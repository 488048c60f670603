"""What the authorization service's routes share: dependencies, the keyring, the locality check."""


from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.authorization.domain import (
    Role,
)
from services.authorization.service import (
    Keyring,
)
from shared.auth import Caller, authenticated, require
from shared.problems import Forbidden
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Maintainer = Annotated[Caller, Depends(require(Role.MAINTAINER))]
Signatory = Annotated[Caller, Depends(require(Role.MAINTAINER, Role.SUPERVISOR))]
Reader = Annotated[Caller, Depends(authenticated)]


def keyring(ctx: ServiceContext) -> Keyring:
    """The service's keyring."""
    ring: Keyring = ctx.state["keyring"]
    return ring


def own_locality(caller: Caller, locality: str) -> None:
    if caller.locality != locality:
        raise Forbidden(f"a client of {caller.locality} cannot act for locality {locality}")


