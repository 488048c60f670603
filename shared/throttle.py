"""Throttling of failed logins, counted in the service's own database (shared by every replica).

Failures are counted per key (``client:<id>``, ``address:<ip>``) in fixed windows of
``throttle_window_seconds``; a key that reached its limit answers 429 with ``Retry-After`` until its
window ends, before any secret is checked. The counts live in a table of the service's database,
so replicas share them, a restart keeps them, and no per-process memory decides alone. The rows of
a closed window are what the authorization service writes to its audit log: one line per window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, String, Table, delete, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.problems import Problem


def throttle_table(metadata: MetaData, name: str = "login_failures") -> Table:
    """Define the table of failure counts (``login_failures`` unless named) in a service's metadata."""
    return Table(
        name,
        metadata,
        Column("key", String(200), primary_key=True),
        Column("window_start", BigInteger, primary_key=True),
        Column("failures", Integer, nullable=False),
        Column("locality", String(16), nullable=False),
        Column("audit", Boolean, nullable=False),
        Column("audited", Boolean, nullable=False),
    )


class TooManyAttempts(Problem):
    """Too many failed logins for a client id or from an address: 429 with ``Retry-After``."""

    status, slug, title = 429, "too-many-attempts", "Too many attempts"


@dataclass(frozen=True)
class Attempt:
    """Who a login attempt counts against: a key, its limit, the locality to audit it under, whether to."""

    key: str
    limit: int
    locality: str = "-"
    audit: bool = True


class Throttle:
    """Failed-login counts per key and window, in ``table``."""

    def __init__(self, table: Table, window_seconds: int) -> None:
        self.table = table
        self.window = window_seconds

    def window_of(self, now: float) -> int:
        """The start (Unix seconds) of the window ``now`` falls in."""
        return int(now // self.window) * self.window

    async def retry_after(self, session: AsyncSession, attempts: list[Attempt], now: float) -> int | None:
        """Seconds until the caller may try again, or None when no key reached its limit."""
        start = self.window_of(now)
        by_key = {a.key: a for a in attempts}
        rows = await session.execute(select(self.table.c.key, self.table.c.failures).where(
            self.table.c.window_start == start, self.table.c.key.in_(list(by_key))))
        if any(failures >= by_key[key].limit for key, failures in rows):
            return max(1, math.ceil(start + self.window - now))
        return None

    async def failed(self, session: AsyncSession, attempts: list[Attempt], now: float) -> None:
        """Count one failure against every key (one upsert each, atomic across replicas)."""
        start = self.window_of(now)
        make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        for attempt in attempts:
            statement = make(self.table).values(key=attempt.key, window_start=start, failures=1,
                                                locality=attempt.locality, audit=attempt.audit, audited=False)
            await session.execute(statement.on_conflict_do_update(
                index_elements=[self.table.c.key, self.table.c.window_start],
                set_={"failures": self.table.c.failures + 1}))

    async def refuse_if_blocked(self, session: AsyncSession, attempts: list[Attempt], now: float) -> None:
        """Raise :class:`TooManyAttempts` (and count the attempt) when a key reached its limit."""
        wait = await self.retry_after(session, attempts, now)
        if wait is not None:
            await self.failed(session, attempts, now)
            raise TooManyAttempts(f"too many failed attempts; try again in {wait} s",
                                  headers={"Retry-After": str(wait)})

    async def closed_windows(self, session: AsyncSession, now: float, limit: int = 500) -> list[Any]:
        """Closed windows to audit (each taken by one replica: locked, skipped by the others), marked audited."""
        table = self.table
        query = (select(table.c.key, table.c.window_start, table.c.failures, table.c.locality)
                 .where(table.c.audit.is_(True), table.c.audited.is_(False),
                        table.c.window_start + self.window <= now)
                 .order_by(table.c.window_start).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows: list[Any] = list((await session.execute(query)).all())
        if rows:
            await session.execute(table.update().where(
                tuple_(table.c.key, table.c.window_start).in_([(r.key, r.window_start) for r in rows])
            ).values(audited=True))
        return rows

    async def purge(self, session: AsyncSession, now: float, keep_windows: int = 2) -> None:
        """Forget windows long closed (and audited, where they are audited)."""
        cutoff = self.window_of(now) - keep_windows * self.window
        table = self.table
        await session.execute(delete(table).where(
            table.c.window_start < cutoff, or_(table.c.audit.is_(False), table.c.audited.is_(True))))
