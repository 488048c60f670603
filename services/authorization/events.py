"""Event handlers of the authorization service: decisions of other services that belong in the audit chain."""

from __future__ import annotations

from services.authorization.store import AuditRepository
from shared.consumer import EventHandler
from shared.contracts.routing import CalendarScheduleChanged
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


HANDLERS: dict[str, EventHandler] = {
    CalendarScheduleChanged.ce_type(): on_calendar_changed,
}
