"""Event handlers of the authorization service: decisions of other services that belong in the audit chain."""

from __future__ import annotations

from services.authorization.licences import revoke_for_case
from services.authorization.store import AuditRepository
from shared.consumer import EventHandler
from shared.contracts.routing import CalendarScheduleChanged, CaseResultRevoked, DelegationDecisionUsed
from shared.envelope import Envelope
from shared.uow import UnitOfWork


async def on_calendar_changed(uow: UnitOfWork, _envelope: Envelope, event: CalendarScheduleChanged) -> None:
    """A change of the shared calendar moves every locality's deadlines: it joins the hash-chained audit log.

    The event travels on every locality's topic; the inbox lets one copy through.
    """
    AuditRepository(uow.session).record(
        event.by_locality, event.by_client, "calendar.schedule_changed", str(event.year), event.change,
        {"version": event.schedule_version, "source": event.source, "reason": event.reason,
         "holidays": [d.isoformat() for d in event.holidays],
         "adjusted_workdays": [d.isoformat() for d in event.adjusted_workdays],
         "changed_at": event.changed_at.isoformat(), "recomputed": event.recomputed})


async def on_delegation_used(uow: UnitOfWork, _envelope: Envelope, event: DelegationDecisionUsed) -> None:
    """Routing took a case under a decision it remembered: the decision's audit line, as a check answered here.

    The same action, subject, outcome and detail as :func:`~services.authorization.trust.check_delegation`
    writes, and when and for which case the remembered answer was used.
    """
    q = event.question
    AuditRepository(uow.session).record(
        event.actor_locality, event.actor, "delegation.checked",
        f"{q.get('acceptor', event.actor_locality)}->{q.get('owner', '')}:{q.get('item', '')}",
        "allowed" if event.allowed else "denied",
        {"mode": q.get("mode"), "at": event.used_at.isoformat(), "agreement": event.agreement_id,
         "reason": event.reason, "question": q, "remembered_from": event.decided_at.isoformat(),
         "case_id": event.case_id, "by": "routing"})


async def on_case_result_revoked(uow: UnitOfWork, _envelope: Envelope, event: CaseResultRevoked) -> None:
    """An owner revoked a case's result: every licence issued for the case is revoked with the same reason,
    on the issuing and the holder's localities' topics (and the case's two sides')."""
    await revoke_for_case(uow, event.case_id, event.reason, event.owning_locality, "routing",
                          (event.owning_locality, event.accepting_locality))


HANDLERS: dict[str, EventHandler] = {
    CalendarScheduleChanged.ce_type(): on_calendar_changed,
    DelegationDecisionUsed.ce_type(): on_delegation_used,
    CaseResultRevoked.ce_type(): on_case_result_revoked,
}
