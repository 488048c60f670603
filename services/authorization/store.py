"""Tables and repository of the authorization service (its own database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, LargeBinary, MetaData, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.authorization.domain import (
    Act,
    Agreement,
    AgreementStatus,
    AuditEntry,
    Client,
    Consent,
    KeyStatus,
    Permission,
    Role,
    Signature,
    SigningKey,
)
from shared.crypto import Algorithm, HashName
from shared.outbox import inbox_table, outbox_table
from shared.throttle import throttle_table


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
login_failures = throttle_table(Base.metadata)


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
    algorithm: Mapped[str] = mapped_column(String(16), default="Ed25519", server_default="Ed25519")
    y: Mapped[str | None] = mapped_column(String(64), nullable=True)


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
    hash_alg: Mapped[str] = mapped_column(String(8), default="sha256", server_default="sha256")


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
                      row.revoked_at, Algorithm(row.algorithm or "Ed25519"), row.y)


def to_entry(row: AuditRow) -> AuditEntry:
    """The domain audit entry of a chained row."""
    return AuditEntry(row.seq or 0, row.at, row.locality, row.actor, row.action, row.subject, row.outcome,
                      dict(row.detail), row.prev_hash or "", row.hash or "", HashName(row.hash_alg or "sha256"))


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
                                       status=key.status.value, created_at=key.created_at,
                                       algorithm=key.algorithm.value, y=key.y))

    async def reseal(self, reseal: Callable[[str, bytes], bytes | None]) -> int:
        """Seal every private half again where ``reseal(kid, sealed)`` gives a new seal; how many changed."""
        changed = 0
        for row in await self.session.scalars(select(SigningKeyRow)):
            new = reseal(row.kid, bytes(row.sealed_private))
            if new is not None:
                row.sealed_private, changed = new, changed + 1
        return changed

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


# --------------------------------------------------------------------------- agreements, consents, attestations


class AgreementRow(Base):
    """A cooperation agreement; its canonical content, status, signatures and acts."""

    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    parties: Mapped[list[str]] = mapped_column(JSON)
    items: Mapped[list[str]] = mapped_column(JSON)
    areas: Mapped[list[str]] = mapped_column(JSON)
    permissions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    drafted_by: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    acts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsentRow(Base):
    """An applicant's consent to a cross-locality records query."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_ref: Mapped[str] = mapped_column(String(128), index=True)
    item_code: Mapped[str] = mapped_column(String(32))
    data_kind: Mapped[str] = mapped_column(String(64))
    requester: Mapped[str] = mapped_column(String(16), index=True)
    holder: Mapped[str] = mapped_column(String(16), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AttestationRow(Base):
    """An acceptance attestation issued for a case (the JWS itself)."""

    __tablename__ = "attestations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    issuer: Mapped[str] = mapped_column(String(16), index=True)
    owners: Mapped[list[str]] = mapped_column(JSON)
    jws: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything here is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_agreement(row: AgreementRow) -> Agreement:
    """The domain agreement of a row."""
    return Agreement(
        id=row.id, title=row.title, text=row.text, parties=tuple(row.parties), items=tuple(row.items),
        areas=tuple(row.areas),
        permissions=tuple(Permission.of(p) for p in row.permissions),
        valid_from=_aware(row.valid_from), valid_until=_aware(row.valid_until), drafted_by=row.drafted_by,
        status=AgreementStatus(row.status),
        signatures=tuple(Signature(**s) for s in row.signatures),
        acts=tuple(Act(**a) for a in row.acts),
    )


class AgreementRepository:
    """Agreements."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, agreement_id: str) -> Agreement | None:
        """One agreement."""
        row = await self.session.get(AgreementRow, agreement_id)
        return to_agreement(row) if row else None

    async def get_for_update(self, agreement_id: str) -> Agreement | None:
        """One agreement, locked for this transaction (PostgreSQL)."""
        row = await self.session.get(AgreementRow, agreement_id, with_for_update=True)
        return to_agreement(row) if row else None

    async def involving(self, locality: str) -> list[Agreement]:
        """The agreements a locality is party to (JSON membership is checked here, portable)."""
        rows = await self.session.scalars(select(AgreementRow).order_by(AgreementRow.created_at))
        return [to_agreement(r) for r in rows if locality in r.parties]

    async def save(self, agreement: Agreement) -> None:
        """Insert or update an agreement."""
        values: dict[str, Any] = {
            "title": agreement.title, "text": agreement.text, "parties": list(agreement.parties),
            "items": list(agreement.items), "areas": list(agreement.areas),
            "permissions": [p.as_dict() for p in agreement.permissions],
            "valid_from": agreement.valid_from, "valid_until": agreement.valid_until,
            "drafted_by": agreement.drafted_by, "status": agreement.status.value,
            "signatures": [s.__dict__ for s in agreement.signatures], "acts": [a.__dict__ for a in agreement.acts],
        }
        row = await self.session.get(AgreementRow, agreement.id)
        if row is None:
            self.session.add(AgreementRow(id=agreement.id, created_at=datetime.now(UTC), **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)


def to_consent(row: ConsentRow) -> Consent:
    """The domain consent of a row."""
    return Consent(row.id, row.subject_ref, row.item_code, row.data_kind, row.requester, row.holder, row.purpose,
                   _aware(row.expires_at), row.recorded_by, _aware(row.revoked_at) if row.revoked_at else None)


class ConsentRepository:
    """Consents."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, consent_id: str) -> Consent | None:
        """One consent."""
        row = await self.session.get(ConsentRow, consent_id)
        return to_consent(row) if row else None

    async def of_subject(self, subject_ref: str) -> list[Consent]:
        """Every consent of one applicant."""
        rows = await self.session.scalars(select(ConsentRow).where(ConsentRow.subject_ref == subject_ref))
        return [to_consent(r) for r in rows]

    async def involving(self, locality: str) -> list[Consent]:
        """Consents where the locality asks or holds."""
        rows = await self.session.scalars(
            select(ConsentRow).where((ConsentRow.requester == locality) | (ConsentRow.holder == locality))
        )
        return [to_consent(r) for r in rows]

    async def save(self, consent: Consent) -> None:
        """Insert or update a consent."""
        row = await self.session.get(ConsentRow, consent.id)
        if row is None:
            self.session.add(ConsentRow(**consent.__dict__))
        else:
            row.revoked_at = consent.revoked_at


class AttestationRepository:
    """Issued attestations."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, attestation_id: str, case_id: str, issuer: str, owners: list[str], jws: str) -> None:
        """Keep an issued attestation."""
        self.session.add(AttestationRow(id=attestation_id, case_id=case_id, issuer=issuer, owners=owners, jws=jws,
                                        issued_at=datetime.now(UTC)))

    async def get(self, attestation_id: str) -> AttestationRow | None:
        """One attestation."""
        return await self.session.get(AttestationRow, attestation_id)
