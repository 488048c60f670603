"""Tables and repository of the delivery service (its own database)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, UniqueConstraint, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.delivery.domain import Waybill, s10_number
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    """Declarative base of the delivery service's own metadata."""

    metadata = MetaData()


class SerialRow(Base):
    """Issued S10 serial numbers: the row id is the serial."""

    __tablename__ = "s10_serials"

    serial: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WaybillRow(Base):
    """A waybill."""

    __tablename__ = "waybills"
    __table_args__ = (UniqueConstraint("case_id", "flow"),)

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    flow: Mapped[str] = mapped_column(String(16))
    sender_locality: Mapped[str] = mapped_column(String(6))
    receiver_locality: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


def _waybill(row: WaybillRow) -> Waybill:
    return Waybill(
        number=row.number,
        case_id=row.case_id,
        flow=row.flow,  # type: ignore[arg-type]
        sender_locality=row.sender_locality,
        receiver_locality=row.receiver_locality,
        status=row.status,
    )


class WaybillRepository:
    """Waybills in delivery's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_number(self) -> str:
        """A new S10 tracking number from the serial sequence."""
        result = await self.session.execute(
            insert(SerialRow).values(issued_at=datetime.now(UTC)).returning(SerialRow.serial)
        )
        return s10_number(result.scalar_one())

    async def get(self, number: str) -> Waybill | None:
        """The waybill ``number``, or None."""
        row = await self.session.get(WaybillRow, number)
        return _waybill(row) if row else None

    async def of_case(self, case_id: str) -> list[Waybill]:
        """The waybills of a case."""
        rows = await self.session.scalars(
            select(WaybillRow).where(WaybillRow.case_id == case_id).order_by(WaybillRow.created_at)
        )
        return [_waybill(r) for r in rows]

    async def add(self, waybill: Waybill) -> None:
        """Store a new waybill."""
        self.session.add(
            WaybillRow(
                number=waybill.number,
                case_id=waybill.case_id,
                flow=waybill.flow,
                sender_locality=waybill.sender_locality,
                receiver_locality=waybill.receiver_locality,
                status=waybill.status,
                created_at=datetime.now(UTC),
            )
        )
