"""Throttling of the token endpoint and the audit of failed attempts, one line per window.

Failed client authentications count against the client id and the source address in the
authorization service's own database (shared/throttle.py), so every replica sees the same counts.
The audit log gets no line per failure (anyone could grow a locality's chain so): when a window
closes, one line per client id (in its locality's chain) and one per source address say how many
attempts failed in it.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from services.authorization.service import TokenRefused
from services.authorization.store import AuditRepository, login_failures
from shared.service import ServiceContext
from shared.throttle import Attempt, Throttle

log = logging.getLogger("tongban.authorization")


def token_throttle(ctx: ServiceContext) -> Throttle:
    """The token endpoint's throttle."""
    return Throttle(login_failures, ctx.settings.throttle_window_seconds)


def attempts_of(ctx: ServiceContext, client_id: str | None, address: str,
                refused: TokenRefused | None = None) -> list[Attempt]:
    """The keys an attempt counts against; after a refusal, the locality its client id is audited under."""
    settings = ctx.settings
    found = [Attempt("address:" + address[:100], settings.throttle_address_failures)]
    if client_id:
        locality = refused.locality if refused else None
        found.append(Attempt("client:" + client_id[:64], settings.throttle_client_failures,
                             locality or "-", audit=locality is not None))
    return found


async def audit_closed_windows(ctx: ServiceContext, now: float | None = None) -> int:
    """Write one audit line per closed window of failures; how many lines were written."""
    throttle: Throttle = ctx.state["throttle"]
    moment = time.time() if now is None else now
    async with ctx.uow() as uow:
        rows = await throttle.closed_windows(uow.session, moment)
        audit = AuditRepository(uow.session)
        for row in rows:
            kind, _, who = row.key.partition(":")
            audit.record(row.locality, who, "token.refused" if kind == "client" else "token.refused.address",
                         who, "invalid_client", {
                             "failures": row.failures, "window_seconds": throttle.window,
                             "window_start": datetime.fromtimestamp(row.window_start, UTC).isoformat()})
        await throttle.purge(uow.session, moment)
        await uow.commit()
    return len(rows)


def audit_interval(ctx: ServiceContext) -> float:
    """How often closed windows are audited: a few times per window."""
    return max(0.5, min(10.0, ctx.settings.throttle_window_seconds / 4))
