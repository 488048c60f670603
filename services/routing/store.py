"""Tables and repositories of the routing service (its own database)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    and_,
    insert,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.routing.changes import ChangeStamp, decode_feed_cursor, encode_feed_cursor, feed_horizon
from services.routing.domain import ApplicantRef, Case, CaseStatus, Material, Pause
from services.routing.domain.cases import DeliveryProblem, Waybill
from shared.bounded_json import loads_json
from shared.db import table_of
from shared.outbox import inbox_table, outbox_table
from shared.throttle import throttle_table

__all__ = ["decode_feed_cursor", "encode_feed_cursor"]


class Base(DeclarativeBase):
    """Declarative base of the routing service's own metadata."""

    metadata = MetaData()


class KnownItemRow(Base):
    """Routing's copy of a catalogue item, kept fresh by the catalogue's events."""

    __tablename__ = "known_items"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    area: Mapped[str] = mapped_column(String(64), default="")
    name_zh: Mapped[str] = mapped_column(String(200), default="", server_default="")
    modes: Mapped[list[str]] = mapped_column(JSON)
    ownership_rule: Mapped[str] = mapped_column(String(64))
    committed_days: Mapped[int] = mapped_column(Integer)
    days_by_locality: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    materials_by_locality: Mapped[dict[str, list[dict[str, Any]]]] = mapped_column(JSON, default=dict,
                                                                                   server_default="{}")
    """The materials each locality's business standard requires (name, form, count, electronic_accepted)."""
    licence_types: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default="[]")
    """The electronic licences (code, name) the item's result may be (docs/licences.md)."""
    published: Mapped[bool] = mapped_column()
    revision: Mapped[int] = mapped_column(Integer)
    national_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    """The national basic-catalogue code (基本目录, GB/T 39554.1-2020); "" when unknown (case exports)."""
    implementation_codes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    """Each locality's implementation code (实施清单) of the item (case exports)."""


class CaseRow(Base):
    """A cross-locality case."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), index=True)
    mode: Mapped[str] = mapped_column(String(40))
    accepting_locality: Mapped[str] = mapped_column(String(6), index=True)
    owning_locality: Mapped[str] = mapped_column(String(6), index=True)
    owners: Mapped[list[str]] = mapped_column(JSON)
    parts: Mapped[list[list[str]]] = mapped_column(JSON)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    applicant_kind: Mapped[str] = mapped_column(String(16))
    applicant_digest: Mapped[str] = mapped_column(String(64), index=True)
    applicant_masked: Mapped[str] = mapped_column(String(32))
    applicant_key_id: Mapped[str] = mapped_column(String(32), server_default="")
    """Version of the applicant-hash key that made the digest ("" before versions: the first one)."""
    status: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    sequence: Mapped[int] = mapped_column(Integer)
    waybill_numbers: Mapped[list[str]] = mapped_column(JSON)
    attestation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    committed_days: Mapped[int] = mapped_column(Integer)
    accepted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    pauses: Mapped[list[list[str | None]]] = mapped_column(JSON, default=list)
    notified: Mapped[list[str]] = mapped_column(JSON, default=list)
    finished_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    """Where the case's last change stands in commit order (see ``services/routing/changes.py``)."""
    waybill_states: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default="[]")
    """Each post of the case as delivery last told: number, flow, status."""
    delivery_exception: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    """The result's post that came back or was lost, until a new post or a hand-over."""
    parties_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The applicant and the agent, every field, sealed under routing's ``applicant-seal`` key."""
    parties_masked: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Their masked forms, as answered."""
    query_code_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The status-query code (on the receipt notice), sealed under ``applicant-seal``; set at acceptance."""
    notices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    """The case's one-time notices (一次性告知) and their answers."""
    originals_checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    """The window's check of originals (原件核验), per material: matches or not, by whom, when."""

    __table_args__ = (Index("ix_cases_change_seq_id", "change_seq", "id"),)


class CasePartyRow(Base):
    """A locality a case concerns (the accepting one and every owner), for tenant-scoped queries."""

    __tablename__ = "case_parties"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    locality: Mapped[str] = mapped_column(String(6), primary_key=True, index=True)


class TimelineRow(Base):
    """One step in a case's history."""

    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    by_locality: Mapped[str] = mapped_column(String(16))
    by_client: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class PersonalDataReadRow(Base):
    """One unmasking of a case's applicant and agent: who read which fields, when (the audit line)."""

    __tablename__ = "personal_data_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    locality: Mapped[str] = mapped_column(String(6))
    client_id: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyRow(Base):
    """The first response to a request with an Idempotency-Key, per client."""

    __tablename__ = "idempotency_keys"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CalendarVersionRow(Base):
    """One version of a year's statutory schedule as the joint office changed it (append-only)."""

    __tablename__ = "calendar_versions"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[str] = mapped_column(String(16))
    holidays: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    adjusted_workdays: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    by_locality: Mapped[str] = mapped_column(String(16))
    by_client: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LocalStatisticsRow(Base):
    """A locality's own figures for its local-only cases of an item (for "same city treatment")."""

    __tablename__ = "local_statistics"

    locality: Mapped[str] = mapped_column(String(6), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    median_working_days: Mapped[float] = mapped_column(Float)
    on_time_rate: Mapped[float] = mapped_column(Float)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


status_query_failures = throttle_table(Base.metadata, "status_query_failures")
"""Failed status queries (wrong case number and query code) per source address and window (shared/throttle.py)."""
outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


def to_case(row: CaseRow) -> Case:
    """The domain case of a row."""
    return Case(
        id=row.id,
        item_code=row.item_code,
        mode=row.mode,
        accepting_locality=row.accepting_locality,
        owners=tuple(row.owners),
        applicant=ApplicantRef(row.applicant_kind, row.applicant_digest, row.applicant_masked, row.applicant_key_id),
        materials=tuple(Material.from_dict(m) for m in row.materials),
        status=CaseStatus(row.status),
        parts=tuple((o, CaseStatus(s)) for o, s in row.parts),
        sequence=row.sequence,
        waybill_numbers=tuple(row.waybill_numbers),
        reason=row.reason,
        waybills=tuple(Waybill(w["number"], w["flow"], w["status"]) for w in row.waybill_states or []),
        delivery_exception=DeliveryProblem(**row.delivery_exception) if row.delivery_exception else None,
    )


def pauses_of(row: CaseRow) -> list[Pause]:
    """The supplement pauses of a case."""
    return [Pause(date.fromisoformat(str(s)), date.fromisoformat(str(e)) if e else None) for s, e in row.pauses]


def filters_fingerprint(**filters: object) -> str:
    """A short digest of a query's filters, carried in its cursors (a cursor pages only the query it came from)."""
    raw = json.dumps(filters, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def encode_cursor(row: CaseRow, filters: str = "") -> str:
    """An opaque cursor after ``row``, bound to the query's ``filters`` fingerprint."""
    raw = json.dumps([row.submitted_at.isoformat(), row.id, filters]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, filters: str = "") -> tuple[datetime, str]:
    """The position a cursor names; ValueError when it is not one of ours or belongs to other filters."""
    try:
        at, case_id, made_with = loads_json(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = datetime.fromisoformat(at), str(case_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if made_with != filters:
        raise ValueError("the cursor was made for other filters (status, overdue, item, applicant_id); "
                         "start again without a cursor")
    return position


_NEW_CASE = insert(table_of(CaseRow)).values(change_seq=ChangeStamp())
"""A case's first row; its values travel as parameters (a constant statement is compiled once)."""
_NEW_PARTY = insert(table_of(CasePartyRow))
_NEW_STEP = insert(table_of(TimelineRow))


class CaseRepository:
    """Cases in routing's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def row(self, case_id: str, for_update: bool = False) -> CaseRow | None:
        """The row of a case."""
        return await self.session.get(CaseRow, case_id, with_for_update=for_update)

    async def get(self, case_id: str) -> Case | None:
        """The case ``case_id``, or None."""
        row = await self.session.get(CaseRow, case_id)
        return to_case(row) if row else None

    async def add(self, case: Case, committed_days: int, **sealed: Any) -> CaseRow:
        """Store a new case and its parties with Core inserts; the row returned is not in the session.

        ``sealed`` are the case's sealed and masked fields (query code, parties). A submission writes
        rows it never reads back: the ORM's flush of them was a tenth of routing's CPU per case.
        """
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "id": case.id, "item_code": case.item_code, "mode": case.mode,
            "accepting_locality": case.accepting_locality, "owning_locality": case.owning_locality,
            "owners": list(case.owners), "parts": [], "materials": [m.to_dict() for m in case.materials],
            "applicant_kind": case.applicant.kind, "applicant_digest": case.applicant.digest,
            "applicant_masked": case.applicant.masked, "applicant_key_id": case.applicant.key_id,
            "status": case.status.value, "reason": "", "sequence": case.sequence, "waybill_numbers": [],
            "waybill_states": [], "originals_checks": [], "notices": [], "committed_days": committed_days,
            "pauses": [], "notified": [], "deadline_provisional": False, "submitted_at": now, "updated_at": now,
            "attestation_id": None, "accepted_on": None, "due_on": None, "finished_on": None,
            "delivery_exception": None, "parties_sealed": None, "parties_masked": None, "query_code_sealed": None,
            **sealed,
        }
        await self.session.execute(_NEW_CASE, values)
        await self.session.execute(_NEW_PARTY,
                                   [{"case_id": case.id, "locality": locality} for locality in case.involved])
        return CaseRow(**values)

    @staticmethod
    def write(row: CaseRow, case: Case) -> None:
        """Copy a case's state onto its row."""
        row.status = case.status.value
        row.parts = [[o, s.value] for o, s in case.parts]
        row.sequence = case.sequence
        row.waybill_numbers = list(case.waybill_numbers)
        row.reason = case.reason
        row.waybill_states = [{"number": w.number, "flow": w.flow, "status": w.status} for w in case.waybills]
        problem = case.delivery_exception
        row.delivery_exception = None if problem is None else {
            "waybill_number": problem.waybill_number, "status": problem.status, "reason": problem.reason}
        row.updated_at = datetime.now(UTC)
        row.change_seq = ChangeStamp()  # type: ignore[assignment]  # evaluated by the database at flush

    async def add_step(self, case: Case, action: str, from_status: str, by_locality: str, by_client: str,
                       detail: dict[str, Any]) -> None:
        """Record a step of the case's timeline (a Core insert: the step is never read back in the request)."""
        await self.session.execute(_NEW_STEP, {
            "case_id": case.id, "sequence": case.sequence, "at": datetime.now(UTC), "action": action,
            "from_status": from_status, "to_status": case.status.value, "by_locality": by_locality,
            "by_client": by_client, "detail": detail})

    async def timeline(self, case_id: str) -> list[TimelineRow]:
        """The case's steps in order."""
        rows = await self.session.scalars(
            select(TimelineRow).where(TimelineRow.case_id == case_id).order_by(TimelineRow.sequence, TimelineRow.id)
        )
        return list(rows)

    async def search(
        self, locality: str, status: str | None, overdue: bool | None, item: str | None, today: date,
        after: tuple[datetime, str] | None, limit: int, applicant_digests: list[str] | None = None,
    ) -> list[CaseRow]:
        """The cases a locality accepted or handles, newest first, filtered, after a cursor."""
        query = select(CaseRow).order_by(CaseRow.submitted_at.desc(), CaseRow.id.desc()).limit(limit)
        query = query.where(CaseRow.id.in_(select(CasePartyRow.case_id).where(CasePartyRow.locality == locality)))
        if status:
            query = query.where(CaseRow.status == status)
        if item:
            query = query.where(CaseRow.item_code == item)
        if applicant_digests is not None:
            query = query.where(CaseRow.applicant_digest.in_(applicant_digests))
        if overdue is not None:
            late = and_(CaseRow.due_on.is_not(None), CaseRow.due_on < today, CaseRow.finished_on.is_(None))
            query = query.where(late if overdue else ~late)
        if after:
            at, case_id = after
            query = query.where(or_(CaseRow.submitted_at < at, and_(CaseRow.submitted_at == at, CaseRow.id < case_id)))
        return list(await self.session.scalars(query))

    async def changed_since(
        self, locality: str, since: datetime, after: tuple[int, str] | None, limit: int,
    ) -> list[CaseRow]:
        """The locality's cases changed at or after ``since``, in commit order, after a feed cursor.

        Only changes every reader can already see are returned (below the horizon), so a page never
        passes over a change that commits later with a smaller stamp.
        """
        query = (
            select(CaseRow)
            .where(CaseRow.id.in_(select(CasePartyRow.case_id).where(CasePartyRow.locality == locality)))
            .where(CaseRow.updated_at >= since)
            .order_by(CaseRow.change_seq, CaseRow.id)
            .limit(limit)
        )
        horizon = feed_horizon(self.session.get_bind().dialect.name)
        if horizon is not None:
            query = query.where(CaseRow.change_seq < horizon)
        if after:
            seq, case_id = after
            query = query.where(or_(CaseRow.change_seq > seq, and_(CaseRow.change_seq == seq, CaseRow.id > case_id)))
        return list(await self.session.scalars(query))

    async def open_with_deadlines(self) -> list[CaseRow]:
        """Cases whose clock runs: accepted, not finished."""
        rows = await self.session.scalars(
            select(CaseRow).where(CaseRow.accepted_on.is_not(None), CaseRow.finished_on.is_(None))
        )
        return list(rows)

    async def of_item_or_locality(self, locality: str, item: str | None) -> list[CaseRow]:
        """Cases of one locality (as acceptor or owner), optionally of one item."""
        query = select(CaseRow).where(
            CaseRow.id.in_(select(CasePartyRow.case_id).where(CasePartyRow.locality == locality))
        )
        if item:
            query = query.where(CaseRow.item_code == item)
        return list(await self.session.scalars(query))
