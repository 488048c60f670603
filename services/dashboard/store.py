"""The dashboard's own read model (SQLite or PostgreSQL): tables and the queries of its panels.

Nothing here is authoritative: every row is rebuilt from events (or, for sessions, from logins).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.outbox import inbox_table, outbox_table
from shared.throttle import throttle_table

_OFFSET = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of the dashboard's own metadata."""

    metadata = MetaData()


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; naive values (SQLite gives them back so) are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class EventRow(Base):
    """An event the dashboard handled: its envelope and its data, masked."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_received_at", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    case_id: Mapped[str | None] = mapped_column(String(128), index=True)
    traceparent: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SightingRow(Base):
    """An event read on one locality's topic: what the event rate and locality filters count."""

    __tablename__ = "sightings"
    __table_args__ = (Index("ix_sightings_minute", "minute"),)

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    locality: Mapped[str] = mapped_column(String(16), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    minute: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(255))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(_OFFSET)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseRow(Base):
    """A case: its status and its localities."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(64), index=True)
    item_code: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(64))
    accepting_locality: Mapped[str | None] = mapped_column(String(16))
    owning_localities: Mapped[list[str]] = mapped_column(JSON)
    sequence: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    handled_status: Mapped[str | None] = mapped_column(String(64))
    files_in: Mapped[int] = mapped_column(Integer, default=0)
    files_complete: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class CasePartyRow(Base):
    """A locality a case concerns (accepting or owning): what a locality's operator may see."""

    __tablename__ = "case_parties"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    locality: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class DeadlineRow(Base):
    """One owner's deadline of a case."""

    __tablename__ = "deadlines"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[str | None] = mapped_column(String(40))
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WaybillRow(Base):
    """A waybill: its status and whether it is in exception."""

    __tablename__ = "waybills"

    waybill_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(128))
    flow: Mapped[str | None] = mapped_column(String(32))
    sender_locality: Mapped[str | None] = mapped_column(String(16))
    receiver_locality: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(64))
    exception: Mapped[bool] = mapped_column(Boolean, index=True)
    mismatch: Mapped[bool] = mapped_column(Boolean)
    late: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AgreementRow(Base):
    """An agreement and its signature state."""

    __tablename__ = "agreements"

    agreement_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    parties: Mapped[list[str]] = mapped_column(JSON)
    unsigned_parties: Mapped[list[str]] = mapped_column(JSON)
    last_change: Mapped[str] = mapped_column(String(64))
    last_party: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeadLetterRow(Base):
    """A record of a dead-letter topic, with the reason a consumer group gave."""

    __tablename__ = "dead_letters"

    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset: Mapped[int] = mapped_column(_OFFSET, primary_key=True)
    locality: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text)
    reason_class: Mapped[str] = mapped_column(String(64))
    consumer_group: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str | None] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """An operator's session: only the SHA-256 of its id is kept."""

    __tablename__ = "sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    locality: Mapped[str] = mapped_column(String(16))
    regional: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)
login_failures = throttle_table(Base.metadata)
"""Failed dashboard logins per client id and source address (throttled before asking for a token)."""
