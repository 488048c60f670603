"""What every router of the webhooks API shares: dependencies and the mapping of domain errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends

from services.webhooks.domain import EndpointRefused, InvalidSubscription, NotAllowedNow
from services.webhooks.service import Rules
from shared.auth import Caller, Role, authenticated, require
from shared.problems import Conflict, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.uow import UnitOfWork

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
Reader = Annotated[Caller, Depends(authenticated)]
Manager = Annotated[Caller, Depends(require(Role.OPERATOR, Role.MAINTAINER))]
Operator = Annotated[Caller, Depends(require(Role.OPERATOR))]


def rules(ctx: ServiceContext) -> Rules:
    """The running service's rules (address policy, retries, sealing)."""
    found: Rules = ctx.state["rules"]
    return found


def now(ctx: ServiceContext) -> datetime:
    """The service's clock."""
    clock: Callable[[], datetime] = ctx.state["clock"]
    return clock()


@contextmanager
def domain_errors() -> Iterator[None]:
    """Map the domain's refusals to problems."""
    try:
        yield
    except EndpointRefused as exc:
        raise Problem(str(exc), status=422, slug="endpoint-refused", title="Endpoint refused",
                      errors=[{"field": "body.url", "message": str(exc)}]) from exc
    except InvalidSubscription as exc:
        raise Problem(str(exc), status=422, slug="validation", title="Invalid request",
                      errors=[{"field": "body", "message": str(exc)}]) from exc
    except NotAllowedNow as exc:
        raise Conflict(str(exc)) from exc
