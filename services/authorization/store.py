"""Tables and repository of the authorization service (its own database)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, MetaData, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.authorization.domain import Client, Role
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    """Declarative base of the authorization service's own metadata."""

    metadata = MetaData()


class ClientRow(Base):
    """A locality system's client credentials (the secret only as a hash)."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    locality: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    secret_hash: Mapped[str] = mapped_column(String(200))
    revoked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


def _client(row: ClientRow) -> Client:
    return Client(row.client_id, row.locality, row.name, tuple(Role(r) for r in row.roles), row.revoked)


class ClientRepository:
    """Clients in the authorization service's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, client_id: str) -> Client | None:
        """The client, or None."""
        row = await self.session.get(ClientRow, client_id)
        return _client(row) if row else None

    async def secret_hash(self, client_id: str) -> str | None:
        """The stored hash of the client's secret."""
        row = await self.session.get(ClientRow, client_id)
        return row.secret_hash if row else None

    async def of_locality(self, locality: str | None) -> list[Client]:
        """The clients of one locality, or of all."""
        query = select(ClientRow).order_by(ClientRow.client_id)
        if locality:
            query = query.where(ClientRow.locality == locality)
        return [_client(r) for r in await self.session.scalars(query)]

    async def add(self, client: Client, secret_hash: str) -> None:
        """Store a new client."""
        self.session.add(
            ClientRow(
                client_id=client.client_id,
                locality=client.locality,
                name=client.name,
                roles=[r.value for r in client.roles],
                secret_hash=secret_hash,
                revoked=client.revoked,
                created_at=datetime.now(UTC),
            )
        )

    async def revoke(self, client_id: str) -> None:
        """Mark a client revoked."""
        row = await self.session.get(ClientRow, client_id)
        if row is not None:
            row.revoked = True
