"""Database engines: SQLite (aiosqlite) for the embedded default, PostgreSQL (asyncpg) in production."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine


def private_dirs(directory: Path) -> None:
    """Make ``directory`` and any missing parents, each readable by the owner alone (0700)."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)


def private_file(path: Path) -> None:
    """An (empty, if new) SQLite file readable by the owner alone: 0600, so its WAL and SHM are too."""
    private_dirs(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o600)


def secure_data_dir(data_dir: Path) -> None:
    """The embedded data folder for its owner alone: folders 0700, files (databases, keys, credentials) 0600."""
    private_dirs(data_dir)
    data_dir.chmod(0o700)
    for folder, dirs, files in os.walk(data_dir):
        for name in dirs:
            (Path(folder) / name).chmod(0o700)
        for name in files:
            file = Path(folder) / name
            if not file.is_symlink():
                file.chmod(0o600)


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    """An async engine for ``url``; SQLite files get WAL mode and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            private_file(Path(path))
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine

    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)

    # Instead of ``pool_pre_ping``: its ping on the asyncpg dialect is three round trips (BEGIN, ";",
    # ROLLBACK) on every checkout, more than most transactions cost. asyncpg notices at once, without
    # a round trip, a connection that the server closed (a restart, an idle timeout); such a connection
    # is replaced here before use. One that dies between this check and its use fails that request
    # (a 503 with Retry-After, since the error is transient), and SQLAlchemy then renews the whole pool.
    @event.listens_for(engine.sync_engine, "checkout")
    def _alive(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise DisconnectionError("the server closed this connection")

    return engine


def is_postgres(engine: AsyncEngine) -> bool:
    """Whether the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def is_transient(exc: BaseException) -> bool:
    """Whether an error is worth retrying: the database or the network was away for a moment."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ConnectionError | OSError | asyncio.TimeoutError)


def table_of(model: Any) -> Table:
    """The Core table of a mapped class (or the table itself).

    Statements on the table skip the ORM's bulk-insert machinery, which cost a third of the
    dashboard's CPU per event for rows the session never needs back (issue 20's profiles).
    """
    table = getattr(model, "__table__", model)
    if not isinstance(table, Table):
        raise TypeError(f"{model!r} is neither a mapped class nor a table")
    return table


_STATEMENTS: dict[tuple[str, Table, tuple[str, ...], tuple[str, ...], bool], Any] = {}


def _conflict_statement(session: AsyncSession, model: Any, columns: Iterable[str], keys: list[str],
                        update: bool) -> Any:
    """One INSERT … ON CONFLICT statement per dialect, table, columns and keys, built once.

    The values travel as parameters: a statement built anew with ``.values(**row)`` for every row
    costs as much to compile-key as the ORM flush it replaces, a constant one is served from
    SQLAlchemy's compiled cache.
    """
    dialect = session.get_bind().dialect.name
    table, names = table_of(model), tuple(columns)
    key = (dialect, table, names, tuple(keys), update)
    statement = _STATEMENTS.get(key)
    if statement is None:
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        base = make(table)
        changed = {name: base.excluded[name] for name in names if name not in keys}
        statement = (base.on_conflict_do_update(index_elements=keys, set_=changed) if update and changed
                     else base.on_conflict_do_nothing(index_elements=keys))
        _STATEMENTS[key] = statement
    return statement


async def insert_ignore(session: AsyncSession, model: Any, values: dict[str, Any], keys: list[str]) -> bool:
    """Insert a row unless one with the same key exists (one statement, on PostgreSQL and SQLite); whether
    it was inserted. Unlike a savepoint around an ORM insert, it starts no read before the write, so a SQLite
    writer never has to upgrade a stale snapshot ("database is locked")."""
    result = await session.execute(_conflict_statement(session, model, values, keys, update=False), values)
    return bool(getattr(result, "rowcount", 0))


async def insert_ignore_many(session: AsyncSession, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert the rows (one executemany; rows of the same columns) but those whose key exists already."""
    if rows:
        await session.execute(_conflict_statement(session, model, rows[0], keys, update=False), rows)


async def upsert(session: AsyncSession, model: Any, values: dict[str, Any], keys: list[str]) -> None:
    """Insert a row, or overwrite the other columns of the one with the same key: one statement."""
    await session.execute(_conflict_statement(session, model, values, keys, update=True), values)
