"""Tables and repositories of the delivery service (its own database, SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.delivery.domain import Address, Tracking, TrackingEvent, Waybill, s10_number
from shared.keys import KeySet, ServiceKeys
from shared.outbox import inbox_table, outbox_table
from shared.sealing import needs_reseal, open_json, seal_json

_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of the delivery service's own metadata."""

    metadata = MetaData()


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; naive values (SQLite gives them back so) are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return utc(moment) if moment is not None else None


class SerialRow(Base):
    """Issued S10 serial numbers: the row id is the serial."""

    __tablename__ = "s10_serials"

    serial: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WaybillRow(Base):
    """A waybill, with the tracking summary its events lead to."""

    __tablename__ = "waybills"
    __table_args__ = (
        UniqueConstraint("case_id", "flow"),
        UniqueConstraint("carrier_number", name="uq_waybills_carrier_number"),
    )

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    flow: Mapped[str] = mapped_column(String(16))
    sender_locality: Mapped[str] = mapped_column(String(6))
    receiver_locality: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    carrier: Mapped[str] = mapped_column(String(16), server_default="ems")
    service: Mapped[str] = mapped_column(String(8), server_default="EMS")
    deliver_to: Mapped[str] = mapped_column(String(16), server_default="department")
    sender_address: Mapped[dict[str, str] | str | None] = mapped_column(JSON, nullable=True)
    """Sealed (shared/sealing.py, key ``personal-data``, the suite's cipher: AES-256-GCM or SM4-GCM, named in the
    value); a JSON object only in rows from before sealing."""
    receiver_address: Mapped[dict[str, str] | str | None] = mapped_column(JSON, nullable=True)
    material_hashes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    document: Mapped[str] = mapped_column(String(200), server_default="")
    target_hours: Mapped[int] = mapped_column(Integer, server_default="72")
    carrier_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status_code: Mapped[str | None] = mapped_column(String(3), nullable=True)
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    receipt: Mapped[str | None] = mapped_column(String(16), nullable=True)
    receipt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    late_flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WaybillEventRow(Base):
    """A carrier event of a waybill; the same code at the same time is one event."""

    __tablename__ = "waybill_events"
    __table_args__ = (UniqueConstraint("waybill_number", "code", "occurred_at", name="uq_waybill_event"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    waybill_number: Mapped[str] = mapped_column(String(32), ForeignKey("waybills.number"), index=True)
    code: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    carrier: Mapped[str] = mapped_column(String(16))
    carrier_event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    location: Mapped[str] = mapped_column(String(200), server_default="")
    reason: Mapped[str] = mapped_column(String(200), server_default="")
    action: Mapped[str] = mapped_column(String(32), server_default="")


class CasePartiesRow(Base):
    """What delivery knows of a case from routing's events: its localities, mode and materials."""

    __tablename__ = "case_parties"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    accepting_locality: Mapped[str] = mapped_column(String(6))
    owning_localities: Mapped[list[str]] = mapped_column(JSON)
    mode: Mapped[str | None] = mapped_column(String(40), nullable=True)
    material_hashes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


PERSONAL_DATA_KEY = "personal-data"
"""Delivery's own key that seals names, phones and addresses at rest."""


def personal_keys(session: AsyncSession) -> KeySet:
    """The delivery service's personal-data key, from the session's service keys."""
    keys: ServiceKeys = session.info["keys"]
    return keys.keyset(PERSONAL_DATA_KEY)


def seal_address(keys: KeySet, number: str, side: str, address: Address | None) -> str | None:
    """An address sealed for one side of one waybill (a copy on another row does not open)."""
    return seal_json(keys, address.to_dict(), f"waybill:{number}:{side}") if address else None


def _address(keys: KeySet, number: str, side: str, data: dict[str, Any] | str | None) -> Address | None:
    if not data:
        return None
    if isinstance(data, str):
        return Address.from_dict(open_json(keys, data, f"waybill:{number}:{side}"))
    return Address.from_dict(data)  # written before sealing; sealed at the next start


def _waybill(row: WaybillRow, keys: KeySet) -> Waybill:
    return Waybill(
        number=row.number,
        case_id=row.case_id,
        flow=row.flow,  # type: ignore[arg-type]
        sender_locality=row.sender_locality,
        receiver_locality=row.receiver_locality,
        status=row.status,
        carrier=row.carrier,
        service=row.service,
        deliver_to=row.deliver_to,  # type: ignore[arg-type]
        sender_address=_address(keys, row.number, "sender", row.sender_address),
        receiver_address=_address(keys, row.number, "receiver", row.receiver_address),
        material_hashes=tuple(row.material_hashes or ()),
        document=row.document,
        target_hours=row.target_hours,
        carrier_number=row.carrier_number,
        receipt=row.receipt,
        late=row.late_flagged_at is not None,
        status_code=row.status_code,
        status_at=_utc_or_none(row.status_at),
        posted_at=_utc_or_none(row.posted_at),
        delivered_at=_utc_or_none(row.delivered_at),
        due_at=_utc_or_none(row.due_at),
        attempts=row.attempts,
        created_at=_utc_or_none(row.created_at),
    )


def _event(row: WaybillEventRow) -> TrackingEvent:
    return TrackingEvent(row.code, utc(row.occurred_at), row.location, row.reason, row.action)


class WaybillRepository:
    """Waybills and their carrier events in delivery's database (addresses sealed at rest)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.keys = personal_keys(session)

    async def seal_plain_addresses(self, batch: int = 500) -> int:
        """Seal the addresses of rows written before sealing, and seal again those sealed with another cipher
        than the suite's (after a switch of suite); how many addresses were sealed."""
        sealed = 0
        rows = await self.session.scalars(select(WaybillRow).where(
            or_(WaybillRow.sender_address.is_not(None), WaybillRow.receiver_address.is_not(None))))
        for row in rows:
            for side in ("sender", "receiver"):
                value, context = getattr(row, f"{side}_address"), f"waybill:{row.number}:{side}"
                if isinstance(value, str) and needs_reseal(self.keys, value):
                    value = open_json(self.keys, value, context)
                if isinstance(value, dict):
                    setattr(row, f"{side}_address", seal_json(self.keys, value, context))
                    sealed += 1
        return sealed

    async def next_number(self) -> str:
        """A new S10 tracking number from the serial sequence."""
        result = await self.session.execute(
            insert(SerialRow).values(issued_at=datetime.now(UTC)).returning(SerialRow.serial)
        )
        return s10_number(result.scalar_one())

    async def get(self, number: str) -> Waybill | None:
        """The waybill ``number``, or None."""
        row = await self.session.get(WaybillRow, number)
        return _waybill(row, self.keys) if row else None

    async def get_for_update(self, number: str) -> Waybill | None:
        """The waybill ``number`` locked for this transaction (PostgreSQL), or None."""
        row = await self.session.get(WaybillRow, number, with_for_update=True)
        return _waybill(row, self.keys) if row else None

    async def number_of_carrier_number(self, carrier: str, carrier_number: str) -> str | None:
        """Our number of a waybill the carrier knows under its own number."""
        found = await self.session.scalar(
            select(WaybillRow.number).where(
                WaybillRow.carrier_number == carrier_number, WaybillRow.carrier == carrier
            )
        )
        return found

    async def of_case(self, case_id: str) -> list[Waybill]:
        """The waybills of a case."""
        rows = await self.session.scalars(
            select(WaybillRow).where(WaybillRow.case_id == case_id).order_by(WaybillRow.created_at)
        )
        return [_waybill(r, self.keys) for r in rows]

    async def add(self, waybill: Waybill) -> None:
        """Store a new waybill."""
        now = datetime.now(UTC)
        self.session.add(
            WaybillRow(
                number=waybill.number,
                case_id=waybill.case_id,
                flow=waybill.flow,
                sender_locality=waybill.sender_locality,
                receiver_locality=waybill.receiver_locality,
                status=waybill.status,
                created_at=now,
                carrier=waybill.carrier,
                service=waybill.service,
                deliver_to=waybill.deliver_to,
                sender_address=seal_address(self.keys, waybill.number, "sender", waybill.sender_address),
                receiver_address=seal_address(self.keys, waybill.number, "receiver", waybill.receiver_address),
                material_hashes=list(waybill.material_hashes),
                document=waybill.document,
                target_hours=waybill.target_hours,
                carrier_number=waybill.carrier_number,
                attempts=0,
                updated_at=now,
            )
        )
        await self.session.flush()

    async def _row(self, number: str) -> WaybillRow:
        row = await self.session.get(WaybillRow, number)
        if row is None:
            raise KeyError(number)
        return row

    async def set_receiver(self, number: str, deliver_to: str, address: Address) -> None:
        """Address the waybill to someone else (before it is posted)."""
        row = await self._row(number)
        row.deliver_to, row.receiver_address = deliver_to, seal_address(self.keys, number, "receiver", address)
        row.updated_at = datetime.now(UTC)

    async def bind_carrier_number(self, number: str, carrier_number: str) -> None:
        """Remember the carrier's own number of a waybill."""
        row = await self._row(number)
        row.carrier_number = carrier_number

    async def add_event(
        self, number: str, carrier: str, event: TrackingEvent, carrier_event_id: str | None, now: datetime
    ) -> bool:
        """Store a carrier event; False when the same event (code and time) was stored before."""
        values = {
            "waybill_number": number, "code": event.code, "occurred_at": utc(event.occurred_at),
            "received_at": now, "carrier": carrier, "carrier_event_id": carrier_event_id,
            "location": event.location, "reason": event.reason, "action": event.action,
        }
        dialect = self.session.get_bind().dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            make(WaybillEventRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["waybill_number", "code", "occurred_at"])
            .returning(WaybillEventRow.id)
        )
        inserted = (await self.session.execute(statement)).first()
        return inserted is not None

    async def events(self, number: str) -> list[TrackingEvent]:
        """The carrier events of a waybill, by event time."""
        rows = await self.session.scalars(
            select(WaybillEventRow)
            .where(WaybillEventRow.waybill_number == number)
            .order_by(WaybillEventRow.occurred_at, WaybillEventRow.id)
        )
        return [_event(r) for r in rows]

    async def event_rows(self, number: str) -> list[WaybillEventRow]:
        """The stored carrier events of a waybill, with when they were received."""
        rows = await self.session.scalars(
            select(WaybillEventRow)
            .where(WaybillEventRow.waybill_number == number)
            .order_by(WaybillEventRow.occurred_at, WaybillEventRow.id)
        )
        return list(rows)

    async def save_tracking(
        self, number: str, status: str, tracking: Tracking, due: datetime | None, now: datetime
    ) -> None:
        """Store the status and tracking summary derived from the events."""
        row = await self._row(number)
        row.status = status
        row.status_code, row.status_at = tracking.code, _utc_or_none(tracking.status_at)
        row.posted_at, row.delivered_at = _utc_or_none(tracking.posted_at), _utc_or_none(tracking.delivered_at)
        row.attempts, row.due_at = tracking.attempts, _utc_or_none(due)
        row.updated_at = now

    async def save_receipt(self, number: str, outcome: str, now: datetime) -> None:
        """Store the outcome of the receiving department's check."""
        row = await self._row(number)
        row.receipt, row.receipt_at, row.updated_at = outcome, now, now

    async def flag_late(self, number: str, now: datetime) -> None:
        """Mark the waybill late (once)."""
        row = await self._row(number)
        row.late_flagged_at = now

    async def overdue(self, now: datetime, limit: int = 500) -> list[str]:
        """Waybills due before ``now``, not delivered, not flagged late yet."""
        rows = await self.session.scalars(
            select(WaybillRow.number)
            .where(
                WaybillRow.due_at.is_not(None),
                WaybillRow.due_at < now,
                WaybillRow.delivered_at.is_(None),
                WaybillRow.late_flagged_at.is_(None),
                WaybillRow.status.not_in(["returned", "exception", "delivered"]),
            )
            .order_by(WaybillRow.due_at)
            .limit(limit)
        )
        return list(rows)


class CasePartiesRepository:
    """Delivery's knowledge of cases, from routing's events."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, case_id: str) -> CasePartiesRow | None:
        """What delivery knows of a case."""
        return await self.session.get(CasePartiesRow, case_id)

    async def remember(
        self,
        case_id: str,
        accepting_locality: str,
        owning_localities: list[str],
        mode: str | None = None,
        material_hashes: list[str] | None = None,
    ) -> None:
        """Record (or complete) what delivery knows of a case."""
        row = await self.session.get(CasePartiesRow, case_id)
        if row is None:
            row = CasePartiesRow(case_id=case_id, accepting_locality=accepting_locality,
                                 owning_localities=owning_localities, mode=mode, material_hashes=material_hashes,
                                 updated_at=datetime.now(UTC))
            self.session.add(row)
            return
        if mode is not None:
            row.mode = mode
        if material_hashes is not None:
            row.material_hashes = material_hashes
        row.updated_at = datetime.now(UTC)
