"""Use cases of the authorization service: clients, keys, tokens, the audit chain."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.authorization import crypto
from services.authorization.domain import (
    GENESIS,
    ISSUER,
    AuditEntry,
    Client,
    KeyStatus,
    Role,
    SigningKey,
    audit_hash,
    first_broken_link,
    hash_secret,
    new_client_id,
    new_client_secret,
    new_kid,
    verify_secret_or_dummy,
)
from services.authorization.store import AuditRepository, ClientRepository, KeyRepository
from shared import clock
from shared.background import BackgroundTask
from shared.contracts.authorization import ClientRegistered
from shared.crypto import HashName, PrivateKey, load_private, public_jwk, suite
from shared.db import is_postgres
from shared.keys import ServiceKeys
from shared.settings import AUDIENCES, Settings
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.authorization")


async def register_client(
    uow: UnitOfWork, locality: str, name: str, roles: list[Role]
) -> tuple[Client, str]:
    """Register a locality system; returns the client and its secret (shown only now)."""
    client = Client(new_client_id(locality), locality, name, tuple(dict.fromkeys(roles)))
    secret = new_client_secret()
    await ClientRepository(uow.session).add(client, hash_secret(secret))
    uow.publish(
        ClientRegistered(client_id=client.client_id, locality=locality, roles=[r.value for r in client.roles]),
        [locality],
    )
    AuditRepository(uow.session).record(locality, "bootstrap", "client.registered", client.client_id, "ok",
                                        {"roles": [r.value for r in client.roles]})
    return client, secret


# --------------------------------------------------------------------------- keys


class Keyring:
    """Signing keys of the localities and of the token issuer; private halves sealed at rest."""

    SEAL_KEY = "signing-key-seal"
    """The authorization service's own key that seals private signing keys (rotatable alone)."""

    def __init__(self, keys: ServiceKeys, suite_name: str = "international") -> None:
        self._seal = keys.keyset(self.SEAL_KEY)
        self.suite = suite(suite_name)
        """New keys are of this suite's algorithm; existing keys keep theirs (rotation migrates)."""

    async def ensure(self, session: AsyncSession, owners: list[str]) -> None:
        """Give every owner an active key if it has none, and seal every private key with the suite's cipher
        under the current seal key (after the seal key rotated or the suite changed); one replica at a time on
        PostgreSQL."""
        if (await session.connection()).dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(7402338913)"))
        keys = KeyRepository(session)
        for owner in owners:
            if await keys.active(owner) is None:
                await self._create(keys, owner)
        resealed = await keys.reseal(self._reseal)
        if resealed:
            log.info("private keys sealed under the current seal key", extra={
                "count": resealed, "seal": self._seal.current.id, "cipher": self.suite.aead.value})

    def _reseal(self, kid: str, sealed: bytes) -> bytes | None:
        """A seal with the suite's cipher under the current version of the seal key, or None when it is so
        sealed already (after the seal key rotated or the suite changed, every private key is sealed again)."""
        current = self._seal.current
        if crypto.sealed_under(sealed) == current.id and crypto.sealed_cipher(sealed) is self.suite.aead:
            return None
        raw = crypto.unseal_versioned(sealed, {k.id: k.secret for k in self._seal.versions}, kid)
        return crypto.seal_named(raw, self.suite.aead, current.id, current.secret, kid)

    async def _create(self, keys: KeyRepository, owner: str) -> SigningKey:
        private = self.suite.new_signing_key()
        members = private.public_key().jwk()
        key = SigningKey(new_kid(owner), owner, members["x"], KeyStatus.ACTIVE, int(time.time()),
                         algorithm=private.algorithm, y=members.get("y"))
        seal = self._seal.current
        await keys.add(key, crypto.seal_named(private.private_bytes(), self.suite.aead, seal.id, seal.secret,
                                              key.kid))
        return key

    async def rotate(self, session: AsyncSession, owner: str) -> tuple[SigningKey, SigningKey | None]:
        """A new active key for ``owner``; the old one retired (it still verifies what it signed)."""
        keys = KeyRepository(session)
        current = await keys.active(owner)
        retired = None
        if current is not None:
            retired = current[0].retire(int(time.time()))
            await keys.save(retired)
        return await self._create(keys, owner), retired

    async def signer(self, session: AsyncSession, owner: str) -> tuple[SigningKey, PrivateKey]:
        """The owner's active key and its private half (of the key's own algorithm)."""
        found = await KeyRepository(session).active(owner)
        if found is None:
            raise LookupError(f"{owner} has no active signing key")
        key, sealed = found
        raw = crypto.unseal_versioned(sealed, {k.id: k.secret for k in self._seal.versions}, key.kid)
        return key, load_private(key.algorithm, raw)

    @staticmethod
    async def jwks(session: AsyncSession) -> dict[str, Any]:
        """The published keys (active and retired, never revoked) and the revoked clients."""
        keys = [k for k in await KeyRepository(session).all() if k.status is not KeyStatus.REVOKED]
        revoked = [c.client_id for c in await ClientRepository(session).of_locality(None) if c.revoked]
        return {
            "keys": [
                public_jwk(
                    k.public_key(), k.kid,
                    tongban_owner=k.owner,
                    tongban_use="token" if k.owner == ISSUER else "locality",
                    tongban_status=k.status.value,
                    tongban_created_at=k.created_at,
                    tongban_retired_at=k.retired_at,
                )
                for k in keys
            ],
            "tongban_revoked_clients": revoked,
        }


# --------------------------------------------------------------------------- tokens


class TokenRefused(Exception):
    """The token endpoint's refusal, in RFC 6749 section 5.2 terms."""

    def __init__(self, error: str, description: str, status: int = 400, locality: str | None = None,
                 authenticated: bool = False) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
        self.locality = locality
        """The locality of the client named, when it exists (whose audit chain the refusal concerns)."""
        self.authenticated = authenticated
        """Whether the secret was right (a refusal then is audited on its own; failures only per window)."""


async def issue_token(
    session: AsyncSession,
    keyring: Keyring,
    settings: Settings,
    client_id: str,
    client_secret: str,
    scope: str | None,
    audience: str | None,
) -> dict[str, Any]:
    """Client credentials grant (RFC 6749, section 4.4): an access token signed with the issuer's key."""
    clients = ClientRepository(session)
    stored = await clients.secret_hash(client_id)  # one query whether the client exists or not
    client = await clients.get(client_id) if stored is not None else None
    # An unknown id is checked against a dummy hash: it answers in the time a known one does.
    if not verify_secret_or_dummy(client_secret, stored) or client is None:
        raise TokenRefused("invalid_client", "unknown client or wrong secret", 401,
                           locality=client.locality if client else None)
    if client.revoked:
        raise TokenRefused("invalid_client", "client revoked", 401, client.locality, authenticated=True)
    held = [r.value for r in client.roles]
    roles = held if not scope else scope.split()
    if not set(roles) <= set(held):
        raise TokenRefused("invalid_scope", f"the client holds only the roles {' '.join(held)}",
                           locality=client.locality, authenticated=True)
    services = list(AUDIENCES.values()) if not audience else audience.split()
    unknown = [a for a in services if a not in AUDIENCES.values()]
    if unknown:
        raise TokenRefused("invalid_target", f"unknown audience {' '.join(unknown)}", locality=client.locality,
                           authenticated=True)
    key, private = await keyring.signer(session, ISSUER)
    now = int(clock.current().time())
    claims = {
        "iss": settings.auth_issuer,
        "sub": client.client_id,
        "aud": services,
        "iat": now,
        "nbf": now,
        "exp": now + settings.access_token_seconds,
        "jti": str(uuid.uuid4()),
        "locality": client.locality,
        "roles": roles,
    }
    token = crypto.sign_compact(private, {"typ": "at+jwt", "kid": key.kid},
                                json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings.access_token_seconds,
        "scope": " ".join(roles),
        "_claims": claims,
    }


# --------------------------------------------------------------------------- audit chain

_CHAIN_LOCK = 7_402_338_912


class AuditChainer:
    """Links new audit entries into the hash chain, in the order they were written, in one place."""

    def __init__(self, engine: AsyncEngine, poll_seconds: float = 1.0,
                 hash_alg: HashName = HashName.SHA256) -> None:
        self.engine = engine
        self.hash_alg = hash_alg
        """The hash new links use (the suite's); each entry records its own, so a switch keeps the chain."""
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self.poll_seconds = poll_seconds
        self.coalesce_seconds = 0.05
        self._wake = asyncio.Event()
        self._task = BackgroundTask("audit-chainer", self._run)

    def notify(self) -> None:
        """New entries were committed."""
        self._wake.set()

    def start(self) -> None:
        """Chain in the background."""
        self._task.start()

    async def stop(self) -> None:
        """Stop chaining."""
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            try:
                linked = await self.chain_once()
            except Exception as exc:
                log.warning("audit chaining failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(1)
                continue
            if linked < 500:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                    # Woken by a commit: let the commits of the next moments join, so that one round links
                    # the entries of many decisions (a round is a transaction of four statements).
                    await asyncio.sleep(self.coalesce_seconds)

    async def chain_once(self) -> int:
        """Link the waiting entries; how many were linked."""
        async with self.sessionmaker() as session, session.begin():
            if is_postgres(self.engine):
                await session.execute(text(f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK})"))
            audit = AuditRepository(session)
            head = await audit.head()
            seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
            rows = await audit.unchained(500)
            for row in rows:
                seq += 1
                entry = AuditEntry(seq, row.at, row.locality, row.actor, row.action, row.subject, row.outcome,
                                   dict(row.detail), prev, hash_alg=self.hash_alg)
                entry = replace(entry, hash=audit_hash(entry))
                row.seq, row.prev_hash, row.hash = entry.seq, entry.prev_hash, entry.hash
                row.hash_alg = entry.hash_alg.value
                prev = entry.hash
            return len(rows)


async def verify_audit_chain(session: AsyncSession) -> dict[str, Any]:
    """Walk the whole chain; name the first broken link, if any."""
    audit = AuditRepository(session)
    after, prev, checked = 0, GENESIS, 0
    while True:
        batch = await audit.chained(after, 2000)
        if not batch:
            break
        broken = first_broken_link(batch, prev) if batch[0].seq == after + 1 else (
            batch[0].seq, f"expected entry {after + 1}, found {batch[0].seq} (a row is missing)")
        if broken is not None:
            return {"intact": False, "checked": checked + broken[0] - batch[0].seq, "first_broken_seq": broken[0],
                    "reason": broken[1], "unchained": await audit.count_unchained()}
        checked += len(batch)
        after, prev = batch[-1].seq, batch[-1].hash
    return {"intact": True, "checked": checked, "head_seq": after, "head_hash": prev,
            "first_broken_seq": None, "unchained": await audit.count_unchained()}


async def sign_checkpoint(session: AsyncSession, keyring: Keyring, locality: str) -> dict[str, Any]:
    """The locality signs the chain's current head with its own key."""
    audit = AuditRepository(session)
    head = await audit.head()
    seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    key, private = await keyring.signer(session, locality)
    payload = json.dumps({"locality": locality, "seq": seq, "head_hash": head_hash,
                          "at": datetime.now(UTC).isoformat()}, separators=(",", ":")).encode()
    jws = crypto.sign_compact(private, {"kid": key.kid, "typ": "tongban-audit-checkpoint"}, payload)
    await audit.add_checkpoint(locality, seq, head_hash, jws)
    return {"locality": locality, "seq": seq, "head_hash": head_hash, "jws": jws}


BOOTSTRAP_ROLES = [Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER, Role.SUPERVISOR, Role.MAINTAINER, Role.OPERATOR]
"""The roles of a locality's first client: everything a locality does, none of the joint office's regional roles."""
REGIONAL_OFFICE_ROLES = [Role.REGIONAL_CATALOGUE, Role.REGIONAL_CALENDAR, Role.REGIONAL_OPERATOR]
"""The roles of a client of the joint office (``tongban clients register --regional``)."""


async def bootstrap_clients(uow: UnitOfWork, roles: list[Role] | None = None) -> list[dict[str, Any]]:
    """One client per locality (the first credentials of a new installation); secrets shown once."""
    issued: list[dict[str, Any]] = []
    chosen = roles or BOOTSTRAP_ROLES
    for locality in uow.localities:
        client, secret = await register_client(
            uow, locality.code, f"{locality.name_en} government-service system", chosen
        )
        issued.append({"locality": locality.code, "name": locality.name_zh, "client_id": client.client_id,
                       "client_secret": secret, "roles": [r.value for r in chosen]})
    return issued


async def register_regional_office(uow: UnitOfWork, locality: str | None = None,
                                   roles: list[Role] | None = None) -> dict[str, Any]:
    """A client of the joint office holding the regional roles; its secret shown once.

    Registered under ``locality`` (the first registered locality, where the joint office sits, by
    default); the regional roles concern every locality alike. Called by ``tongban clients register
    --regional``, by ``tongban up`` for its demonstration, and by the tests, never by an API route.
    """
    home = locality or uow.localities.codes[0]
    chosen = roles or REGIONAL_OFFICE_ROLES
    client, secret = await register_client(uow, home, "长三角区域合作办公室 joint office of the cooperation", chosen)
    return {"locality": home, "name": client.name, "client_id": client.client_id, "client_secret": secret,
            "roles": [r.value for r in chosen]}
