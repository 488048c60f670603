"""The dashboard's read model: what the events folded into it, queried for the panels, and the sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.dashboard.domain import AgreementState, CaseState, DeadlineState, Viewer, WaybillState
from services.dashboard.store import (
    AgreementRow,
    CasePartyRow,
    CaseRow,
    DeadLetterRow,
    DeadlineRow,
    EventRow,
    SessionRow,
    SightingRow,
    WaybillRow,
    utc,
)
from shared.db import insert_ignore, insert_ignore_many, upsert


class ReadModel:
    """Reads and writes of the dashboard's tables within one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ events and sightings

    async def add_event(self, row: dict[str, Any]) -> None:
        """Keep an event (once)."""
        await insert_ignore(self.session, EventRow, row, ["event_id"])

    async def add_sightings(self, rows: list[dict[str, Any]]) -> None:
        """Count events on localities' topics (once per event and locality), in one statement."""
        await insert_ignore_many(self.session, SightingRow, rows, ["event_id", "locality"])

    async def add_dead_letter(self, row: dict[str, Any]) -> None:
        """Keep a dead letter (once per topic, partition and offset)."""
        await insert_ignore(self.session, DeadLetterRow, row, ["topic", "partition", "offset"])

    async def recent_events(
        self, viewer: Viewer, limit: int, ce_type: str | None = None, case_id: str | None = None,
        locality: str | None = None,
    ) -> list[tuple[EventRow, list[str]]]:
        """The newest events the viewer may see, each with the localities it was read on."""
        query = select(EventRow).order_by(EventRow.received_at.desc()).limit(limit)
        wanted = [locality] if locality else ([] if viewer.regional else [viewer.locality])
        if locality and not viewer.regional and locality != viewer.locality:
            return []
        if wanted:
            seen = select(SightingRow.event_id).where(SightingRow.locality.in_(wanted))
            query = query.where(EventRow.event_id.in_(seen))
        if ce_type:
            query = query.where(EventRow.type == ce_type)
        if case_id:
            query = query.where(EventRow.case_id == case_id)
        rows = list((await self.session.execute(query)).scalars())
        where = await self.localities_of([r.event_id for r in rows])
        return [(r, where.get(r.event_id, [])) for r in rows]

    async def event(self, event_id: str) -> tuple[EventRow, list[str]] | None:
        """One event with the localities it was read on."""
        row = await self.session.get(EventRow, event_id)
        if row is None:
            return None
        return row, (await self.localities_of([event_id])).get(event_id, [])

    async def localities_of(self, event_ids: Sequence[str]) -> dict[str, list[str]]:
        """The localities on whose topics each event was read."""
        if not event_ids:
            return {}
        rows = await self.session.execute(
            select(SightingRow.event_id, SightingRow.locality)
            .where(SightingRow.event_id.in_(list(event_ids)))
            .order_by(SightingRow.locality)
        )
        found: dict[str, list[str]] = {}
        for event_id, locality in rows:
            found.setdefault(event_id, []).append(locality)
        return found

    async def rate_rows(self, viewer: Viewer, since_minute: int) -> list[tuple[int, str, str, int]]:
        """(minute, locality, type, count) of the sightings since ``since_minute``."""
        query = (
            select(SightingRow.minute, SightingRow.locality, SightingRow.type, func.count())
            .where(SightingRow.minute >= since_minute)
            .group_by(SightingRow.minute, SightingRow.locality, SightingRow.type)
        )
        if not viewer.regional:
            query = query.where(SightingRow.locality == viewer.locality)
        return [(int(m), str(loc), str(t), int(n)) for m, loc, t, n in await self.session.execute(query)]

    # ------------------------------------------------------------------ cases and deadlines

    async def case(self, case_id: str) -> CaseState | None:
        """A case as the dashboard knows it (a Core read: the fold never needs the ORM object)."""
        table = CaseRow.__table__
        row = (await self.session.execute(select(table).where(table.c.case_id == case_id))).first()
        if row is None:
            return None
        return CaseState(row.case_id, row.status, row.item_code, row.mode, row.accepting_locality,
                         tuple(row.owning_localities or ()), row.sequence,
                         utc(row.updated_at) if row.updated_at else None,
                         utc(row.accepted_at) if row.accepted_at else None,
                         utc(row.handled_at) if row.handled_at else None, row.handled_status,
                         row.files_in or 0, row.files_complete)

    async def save_case(self, case: CaseState, known_parties: set[str] | frozenset[str] = frozenset()) -> None:
        """Store a case (one upsert) and its parties (those not in ``known_parties`` are added, in one insert)."""
        await upsert(self.session, CaseRow, {
            "case_id": case.case_id, "status": case.status, "item_code": case.item_code, "mode": case.mode,
            "accepting_locality": case.accepting_locality, "owning_localities": list(case.owning_localities),
            "sequence": case.sequence, "updated_at": case.updated_at, "accepted_at": case.accepted_at,
            "handled_at": case.handled_at, "handled_status": case.handled_status, "files_in": case.files_in,
            "files_complete": case.files_complete,
        }, ["case_id"])
        await insert_ignore_many(self.session, CasePartyRow,
                                 [{"case_id": case.case_id, "locality": locality}
                                  for locality in sorted(case.localities - set(known_parties))],
                                 ["case_id", "locality"])

    async def file_counts(self, viewer: Viewer, limit: int = 50) -> list[CaseRow]:
        """The viewer's cases that have files (or wait for them), most recently changed first."""
        query = select(CaseRow).where(or_(CaseRow.files_in > 0, CaseRow.files_complete.is_not(None)))
        if not viewer.regional:
            parties = select(CasePartyRow.case_id).where(CasePartyRow.locality == viewer.locality)
            query = query.where(CaseRow.case_id.in_(parties))
        return list(await self.session.scalars(query.order_by(CaseRow.updated_at.desc()).limit(limit)))

    async def status_counts(self, viewer: Viewer) -> dict[str, int]:
        """How many cases the viewer may see are in each status."""
        query = select(CaseRow.status, func.count()).group_by(CaseRow.status)
        if not viewer.regional:
            parties = select(CasePartyRow.case_id).where(CasePartyRow.locality == viewer.locality)
            query = query.where(CaseRow.case_id.in_(parties))
        return {str(s): int(n) for s, n in await self.session.execute(query)}

    async def save_deadline(self, deadline: DeadlineState, at: datetime) -> None:
        """Store one owner's deadline state of a case (one upsert)."""
        await upsert(self.session, DeadlineRow, {
            "case_id": deadline.case_id, "owner": deadline.owner, "state": deadline.state,
            "due_on": deadline.due_on, "provisional": deadline.provisional, "updated_at": at,
        }, ["case_id", "owner"])

    async def deadline_rows(self, viewer: Viewer) -> list[tuple[str, str, bool, str | None]]:
        """(owner, state, provisional, case status) of the deadlines the viewer may see."""
        query = select(DeadlineRow.owner, DeadlineRow.state, DeadlineRow.provisional, CaseRow.status).join(
            CaseRow, CaseRow.case_id == DeadlineRow.case_id, isouter=True)
        if not viewer.regional:
            parties = select(CasePartyRow.case_id).where(CasePartyRow.locality == viewer.locality)
            query = query.where(or_(DeadlineRow.owner == viewer.locality, DeadlineRow.case_id.in_(parties)))
        return [(str(o), str(s), bool(p), st) for o, s, p, st in await self.session.execute(query)]

    async def late_deadlines(self, viewer: Viewer, limit: int = 20) -> list[DeadlineRow]:
        """The newest deadlines due soon or overdue the viewer may see."""
        query = (
            select(DeadlineRow)
            .join(CaseRow, CaseRow.case_id == DeadlineRow.case_id, isouter=True)
            .where(DeadlineRow.state.in_(["due_soon", "overdue"]))
            .where(or_(CaseRow.status.is_(None),
                       CaseRow.status.not_in(["result_issued", "result_delivered", "closed", "withdrawn",
                                              "rejected", "result_revoked", "terminated"])))
            .order_by(DeadlineRow.updated_at.desc())
            .limit(limit)
        )
        if not viewer.regional:
            parties = select(CasePartyRow.case_id).where(CasePartyRow.locality == viewer.locality)
            query = query.where(or_(DeadlineRow.owner == viewer.locality, DeadlineRow.case_id.in_(parties)))
        return list((await self.session.execute(query)).scalars())

    # ------------------------------------------------------------------ waybills

    async def waybill(self, number: str) -> WaybillState | None:
        """A waybill as the dashboard knows it."""
        table = WaybillRow.__table__
        row = (await self.session.execute(select(table).where(table.c.waybill_number == number))).first()
        if row is None:
            return None
        return WaybillState(row.waybill_number, row.case_id, row.flow, row.sender_locality, row.receiver_locality,
                            row.status, row.exception, row.reason, row.late, row.mismatch,
                            utc(row.updated_at) if row.updated_at else None)

    async def save_waybill(self, bill: WaybillState) -> None:
        """Store a waybill (one upsert)."""
        await upsert(self.session, WaybillRow, {
            "waybill_number": bill.waybill_number, "case_id": bill.case_id, "flow": bill.flow,
            "status": bill.status, "sender_locality": bill.sender_locality,
            "receiver_locality": bill.receiver_locality, "exception": bill.exception, "mismatch": bill.mismatch,
            "late": bill.late, "reason": bill.reason, "updated_at": bill.updated_at,
        }, ["waybill_number"])

    def _waybills_of(self, viewer: Viewer):  # type: ignore[no-untyped-def]
        query = select(WaybillRow)
        if not viewer.regional:
            query = query.where(or_(WaybillRow.sender_locality == viewer.locality,
                                    WaybillRow.receiver_locality == viewer.locality))
        return query

    async def exceptions(self, viewer: Viewer, limit: int = 50) -> list[WaybillRow]:
        """Waybills in exception (or late) that the viewer may see, newest first."""
        query = self._waybills_of(viewer).where(or_(WaybillRow.exception.is_(True), WaybillRow.late.is_(True)))
        return list((await self.session.execute(query.order_by(WaybillRow.updated_at.desc()).limit(limit))).scalars())

    async def waybill_status_counts(self, viewer: Viewer) -> dict[str, int]:
        """Waybills per status that the viewer may see."""
        inner = self._waybills_of(viewer).subquery()
        rows = await self.session.execute(select(inner.c.status, func.count()).group_by(inner.c.status))
        return {str(s): int(n) for s, n in rows}

    # ------------------------------------------------------------------ agreements

    async def agreement(self, agreement_id: str) -> AgreementState | None:
        """An agreement as the dashboard knows it."""
        row = await self.session.get(AgreementRow, agreement_id)
        if row is None:
            return None
        return AgreementState(row.agreement_id, row.status, tuple(row.parties), tuple(row.unsigned_parties),
                              row.last_change, row.last_party, row.reason,
                              utc(row.updated_at) if row.updated_at else None)

    async def save_agreement(self, agreement: AgreementState) -> None:
        """Store an agreement."""
        row = await self.session.get(AgreementRow, agreement.agreement_id)
        if row is None:
            row = AgreementRow(agreement_id=agreement.agreement_id)
            self.session.add(row)
        row.status, row.parties = agreement.status, list(agreement.parties)
        row.unsigned_parties = list(agreement.unsigned_parties)
        row.last_change, row.last_party, row.reason = agreement.last_change, agreement.last_party, agreement.reason
        row.updated_at = agreement.updated_at

    async def agreements(self, viewer: Viewer) -> list[AgreementState]:
        """The agreements the viewer's locality is party to (all for a regional operator)."""
        rows = (await self.session.execute(select(AgreementRow).order_by(AgreementRow.updated_at.desc()))).scalars()
        found = [AgreementState(r.agreement_id, r.status, tuple(r.parties), tuple(r.unsigned_parties),
                                r.last_change, r.last_party, r.reason, utc(r.updated_at) if r.updated_at else None)
                 for r in rows]
        return [a for a in found if viewer.sees(a.parties)]

    # ------------------------------------------------------------------ dead letters

    async def dead_letter_counts(self, viewer: Viewer) -> list[tuple[str, str, int, str, datetime]]:
        """(reason class, consumer group, count, an example reason, last seen) of the visible dead letters."""
        query = (
            select(DeadLetterRow.reason_class, DeadLetterRow.consumer_group, func.count(),
                   func.max(DeadLetterRow.reason), func.max(DeadLetterRow.seen_at))
            .group_by(DeadLetterRow.reason_class, DeadLetterRow.consumer_group)
        )
        if not viewer.regional:
            query = query.where(DeadLetterRow.locality == viewer.locality)
        return [(str(c), str(g), int(n), str(r), utc(t)) for c, g, n, r, t in await self.session.execute(query)]

    # ------------------------------------------------------------------ sessions

    async def add_session(self, digest: str, viewer: Viewer, now: datetime, lifetime: timedelta) -> None:
        """Open a session."""
        self.session.add(SessionRow(digest=digest, client_id=viewer.client_id, locality=viewer.locality,
                                    regional=viewer.regional, created_at=now, expires_at=now + lifetime))

    async def viewer(self, digest: str, now: datetime) -> Viewer | None:
        """The operator of a session that has not expired."""
        row = await self.session.get(SessionRow, digest)
        if row is None or utc(row.expires_at) <= now:
            return None
        return Viewer(row.client_id, row.locality, row.regional)

    async def end_session(self, digest: str) -> None:
        """Close a session."""
        await self.session.execute(delete(SessionRow).where(SessionRow.digest == digest))

    async def end_sessions_of(self, client_id: str) -> None:
        """Close every session of a client (when it is revoked)."""
        await self.session.execute(delete(SessionRow).where(SessionRow.client_id == client_id))

    # ------------------------------------------------------------------ retention

    async def prune(self, now: datetime, keep_events: timedelta, keep_dead_letters: timedelta) -> None:
        """Drop old events, sightings and dead letters, and expired sessions."""
        cutoff = now - keep_events
        await self.session.execute(delete(EventRow).where(EventRow.received_at < cutoff))
        await self.session.execute(delete(SightingRow).where(SightingRow.seen_at < cutoff))
        await self.session.execute(delete(DeadLetterRow).where(DeadLetterRow.seen_at < now - keep_dead_letters))
        await self.session.execute(delete(SessionRow).where(SessionRow.expires_at < now))
