"""Tables and repository of the authorization service (its own database)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, LargeBinary, MetaData, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.authorization.domain import AuditEntry, Client, KeyStatus, Role, SigningKey
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


class SigningKeyRow(Base):
    """A signing key; the private half only sealed with the configuration key."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(16), index=True)
    x: Mapped[str] = mapped_column(String(64))
    sealed_private: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuditRow(Base):
    """One entry of the append-only audit log; ``seq``, ``prev_hash`` and ``hash`` are set when chained."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    at: Mapped[str] = mapped_column(String(40))
    locality: Mapped[str] = mapped_column(String(16), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, object]] = mapped_column(JSON)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CheckpointRow(Base):
    """A locality's signature over the audit chain's head."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    locality: Mapped[str] = mapped_column(String(16), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    jws: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def to_key(row: SigningKeyRow) -> SigningKey:
    """The domain key of a row."""
    return SigningKey(row.kid, row.owner, row.x, KeyStatus(row.status), row.created_at, row.retired_at,
                      row.revoked_at)


def to_entry(row: AuditRow) -> AuditEntry:
    """The domain audit entry of a chained row."""
    return AuditEntry(row.seq or 0, row.at, row.locality, row.actor, row.action, row.subject, row.outcome,
                      dict(row.detail), row.prev_hash or "", row.hash or "")


class KeyRepository:
    """Signing keys."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[SigningKey]:
        """Every key, oldest first."""
        rows = await self.session.scalars(select(SigningKeyRow).order_by(SigningKeyRow.created_at))
        return [to_key(r) for r in rows]

    async def get(self, kid: str) -> SigningKey | None:
        """One key."""
        row = await self.session.get(SigningKeyRow, kid)
        return to_key(row) if row else None

    async def active(self, owner: str) -> tuple[SigningKey, bytes] | None:
        """The owner's active key and its sealed private half."""
        row = (await self.session.scalars(
            select(SigningKeyRow).where(SigningKeyRow.owner == owner, SigningKeyRow.status == "active")
        )).first()
        return (to_key(row), row.sealed_private) if row else None

    async def add(self, key: SigningKey, sealed_private: bytes) -> None:
        """Store a new key."""
        self.session.add(SigningKeyRow(kid=key.kid, owner=key.owner, x=key.x, sealed_private=sealed_private,
                                       status=key.status.value, created_at=key.created_at))

    async def save(self, key: SigningKey) -> None:
        """Store a key's new status."""
        row = await self.session.get(SigningKeyRow, key.kid)
        assert row is not None
        row.status, row.retired_at, row.revoked_at = key.status.value, key.retired_at, key.revoked_at


class AuditRepository:
    """The audit log."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(self, locality: str, actor: str, action: str, subject: str, outcome: str,
               detail: dict[str, object]) -> None:
        """Add an entry to the log, in the caller's transaction; the chainer links it later."""
        self.session.add(AuditRow(at=datetime.now(UTC).isoformat(), locality=locality, actor=actor,
                                  action=action, subject=subject, outcome=outcome, detail=detail))

    async def head(self) -> AuditEntry | None:
        """The newest chained entry."""
        row = (await self.session.scalars(
            select(AuditRow).where(AuditRow.seq.is_not(None)).order_by(AuditRow.seq.desc()).limit(1)
        )).first()
        return to_entry(row) if row else None

    async def unchained(self, limit: int) -> list[AuditRow]:
        """Entries not linked into the chain yet, in the order they were written."""
        rows = await self.session.scalars(
            select(AuditRow).where(AuditRow.seq.is_(None)).order_by(AuditRow.id).limit(limit)
        )
        return list(rows)

    async def chained(self, after: int, limit: int) -> list[AuditEntry]:
        """Chained entries after ``after``, in chain order."""
        rows = await self.session.scalars(
            select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(limit)
        )
        return [to_entry(r) for r in rows]

    async def count_unchained(self) -> int:
        """How many entries wait to be chained."""
        return int((await self.session.execute(
            select(func.count()).select_from(AuditRow).where(AuditRow.seq.is_(None))
        )).scalar_one())

    async def at_seq(self, seq: int) -> AuditEntry | None:
        """The chained entry ``seq``."""
        row = (await self.session.scalars(select(AuditRow).where(AuditRow.seq == seq))).first()
        return to_entry(row) if row else None

    async def add_checkpoint(self, locality: str, seq: int, head_hash: str, jws: str) -> None:
        """Store a signed checkpoint."""
        self.session.add(CheckpointRow(locality=locality, seq=seq, head_hash=head_hash, jws=jws,
                                       created_at=datetime.now(UTC)))

    async def checkpoints(self, locality: str | None = None) -> list[CheckpointRow]:
        """Signed checkpoints, newest first."""
        query = select(CheckpointRow).order_by(CheckpointRow.id.desc()).limit(100)
        if locality:
            query = query.where(CheckpointRow.locality == locality)
        return list(await self.session.scalars(query))
