"""Alembic migrations, one history per service, run at start or by ``tongban db upgrade``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine


def alembic_config(script_location: Path, url: str | None = None) -> Config:
    """An Alembic configuration for one service's migrations folder."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: Connection, script_location: Path) -> None:
    config = alembic_config(script_location)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


_one_at_a_time = asyncio.Lock()


async def upgrade(engine: AsyncEngine, script_location: Path) -> None:
    """Bring the service's database to the newest revision.

    Alembic's ``context`` is process-global, so the embedded system migrates one service at a time; on
    PostgreSQL an advisory lock serialises replicas of a service that start together.
    """
    async with _one_at_a_time, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Replicas starting together on a fresh database migrate one after the other.
            await conn.execute(text("SELECT pg_advisory_xact_lock(7402338900)"))
        await conn.run_sync(_upgrade, script_location)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``."""

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set TONGBAN_DATABASE_URL")

    async def online() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(run)
        await engine.dispose()

    asyncio.run(online())
