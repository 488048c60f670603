"""The table and repository of electronic licences (the authorization service's own database)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.authorization.domain.licences import Licence, LicenceStatus
from services.authorization.store import Base


class LicenceRow(Base):
    """An electronic licence with its issuer's signature; the holder only masked."""

    __tablename__ = "licences"
    __table_args__ = (UniqueConstraint("issuing_locality", "number", name="uq_licences_issuer_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(120), unique=True)
    type_code: Mapped[str] = mapped_column(String(32))
    type_name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(64))
    holder_kind: Mapped[str] = mapped_column(String(16))
    holder_name_masked: Mapped[str] = mapped_column(String(200))
    holder_id_masked: Mapped[str] = mapped_column(String(32))
    issuing_authority: Mapped[str] = mapped_column(String(200))
    issuing_authority_code: Mapped[str] = mapped_column(String(32))
    issuing_locality: Mapped[str] = mapped_column(String(6), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    item_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    holder_localities: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_reason: Mapped[str] = mapped_column(Text, default="")


def to_licence(row: LicenceRow) -> Licence:
    """The aggregate of a row."""
    return Licence(
        id=row.id, identifier=row.identifier, type_code=row.type_code, type_name=row.type_name, number=row.number,
        holder_kind=row.holder_kind, holder_name_masked=row.holder_name_masked, holder_id_masked=row.holder_id_masked,
        issuing_authority=row.issuing_authority, issuing_authority_code=row.issuing_authority_code,
        issuing_locality=row.issuing_locality, issued_on=row.issued_on, valid_from=row.valid_from,
        valid_until=row.valid_until, file_sha256=row.file_sha256, case_id=row.case_id, item_code=row.item_code,
        holder_localities=tuple(row.holder_localities or ()), status=LicenceStatus(row.status),
        signature=row.signature, kid=row.kid, revoked_at=row.revoked_at, revoked_reason=row.revoked_reason or "")


class LicenceRepository:
    """Issued licences."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, licence_id: str, for_update: bool = False) -> Licence | None:
        """One licence by its id."""
        row = await self.session.get(LicenceRow, licence_id, with_for_update=for_update)
        return to_licence(row) if row else None

    async def by_number(self, issuing_locality: str, number: str, for_update: bool = False) -> Licence | None:
        """The licence an issuing locality gave this number (a number is unique per issuer)."""
        query = select(LicenceRow).where(LicenceRow.issuing_locality == issuing_locality,
                                         LicenceRow.number == number)
        row = (await self.session.scalars(query.with_for_update() if for_update else query)).first()
        return to_licence(row) if row else None

    async def of_case(self, case_id: str) -> list[Licence]:
        """Every licence issued as a result of the case."""
        rows = await self.session.scalars(select(LicenceRow).where(LicenceRow.case_id == case_id)
                                          .with_for_update().order_by(LicenceRow.identifier))
        return [to_licence(r) for r in rows]

    async def save(self, licence: Licence) -> None:
        """Insert a licence, or write its revocation."""
        row = await self.session.get(LicenceRow, licence.id)
        if row is None:
            values = asdict(licence)
            values["holder_localities"] = list(licence.holder_localities)
            values["status"] = licence.status.value
            self.session.add(LicenceRow(**values))
            await self.session.flush()
        else:
            row.status = licence.status.value
            row.revoked_at = licence.revoked_at
            row.revoked_reason = licence.revoked_reason
