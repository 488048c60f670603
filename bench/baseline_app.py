"""The baseline of W2 and W5: a bare FastAPI + asyncpg application on the same PostgreSQL.

No token, no outbox, no domain: ``POST /rows`` inserts the JSON body it is given as one row;
``POST /carrier/events`` checks the carrier's HMAC signature like the delivery service and inserts
the batch's events idempotently (``ON CONFLICT DO NOTHING`` on waybill, code and time). Run it as
its own uvicorn process, as the services run::

    BENCH_DSN=postgresql://tongban@127.0.0.1:5432/bench python -m bench.baseline_app 8199
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.delivery.domain import verify_signature

SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (id text PRIMARY KEY, body jsonb NOT NULL,
                                 created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS carrier_events (waybill text NOT NULL, code text NOT NULL, occurred_at text NOT NULL,
                                           body jsonb NOT NULL, PRIMARY KEY (waybill, code, occurred_at));
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=2, max_size=20)
    async with pool.acquire() as conn:
        await conn.execute(SCHEMA)
    app.state.pool = pool
    yield
    await pool.close()


app = FastAPI(title="bench baseline", lifespan=lifespan)
SECRET = bytes.fromhex(os.environ.get("BENCH_HMAC_SECRET", "00"))


@app.post("/rows", status_code=201)
async def insert_row(body: dict[str, Any], request: Request) -> dict[str, str]:
    ident = str(uuid.uuid4())
    await request.app.state.pool.execute("INSERT INTO rows (id, body) VALUES ($1, $2)", ident, json.dumps(body))
    return {"id": ident}


@app.post("/carrier/events")
async def carrier_events(request: Request) -> JSONResponse:
    raw = await request.body()
    try:
        verify_signature(SECRET, request.headers.get("x-tongban-timestamp"),
                         request.headers.get("x-tongban-signature"), raw, time.time())
    except Exception as exc:
        return JSONResponse({"detail": str(exc)}, status_code=401)
    events = json.loads(raw)["events"]
    rows = [(e["waybill_number"], e["code"], e["occurred_at"], json.dumps(e)) for e in events]
    async with request.app.state.pool.acquire() as conn:
        inserted = await conn.fetch(
            "INSERT INTO carrier_events (waybill, code, occurred_at, body) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])
    return JSONResponse({"accepted": len(inserted), "duplicates": len(rows) - len(inserted), "refused": 0})


if __name__ == "__main__":
    import uvicorn

    # The same server settings as ``tongban serve``: uvloop and httptools when installed, no access log.
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
