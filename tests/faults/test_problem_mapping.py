"""The errors PostgreSQL gives while it restarts are answered 503 with Retry-After, not 500, and
answered where the request's exceptions are handled, so that the client keeps its connection.

asyncpg's "the database system is starting up" / "is shutting down" (SQLSTATE 57P03) and
"terminating connection due to administrator command" (57P01) reach the application as plain
DBAPI errors, which ``shared.db.is_transient`` does not recognise; ``test_postgres_restart`` met
them as 500s on real servers. And a 503 made by the catch-all handler of ``Exception`` was
re-raised by Starlette's outermost middleware after answering: uvicorn logged an error and closed
the client's kept-alive connection, so the client's next request there got no answer at all.
Here each error is raised in a route, the way SQLAlchemy raises it; the transport raises whatever
the application re-raises.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.dialects.postgresql.asyncpg import dialect
from sqlalchemy.exc import DBAPIError

from shared.problems import database_unavailable, install_problem_handlers, value_refused


def _as_sqlalchemy_raises(error: Exception) -> DBAPIError:
    """``error`` translated by the asyncpg dialect and wrapped by SQLAlchemy, as on a failed checkout."""
    translate = dialect.import_dbapi()._asyncpg_error_translate
    kind = next(t for t in type(error).__mro__ if t in translate)
    return DBAPIError.instance(None, None, translate[kind](str(error), error), Exception)


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    ConnectionRefusedError(111, "Connect call failed"),
])
async def test_a_database_going_away_is_a_503_with_retry_after(error: Exception) -> None:
    raised = _as_sqlalchemy_raises(error) if isinstance(error, asyncpg.PostgresError) else error
    assert database_unavailable(raised)
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise raised

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)  # nothing is re-raised
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/boom")
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_value_the_database_refuses_is_a_422_not_a_500() -> None:
    error = asyncpg.exceptions.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00')
    raised = _as_sqlalchemy_raises(error)
    assert not database_unavailable(raised) and value_refused(raised)
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise raised

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/boom")
    assert response.status_code == 422 and response.json()["type"].endswith("/invalid-value")
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_unexpected_error_is_still_a_500() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/boom")
    assert response.status_code == 500 and response.json()["type"].endswith("/internal")
