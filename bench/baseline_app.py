"""The baseline for rows (a) and (b): the fastest honest bare endpoints on the same stack.

Same FastAPI, same uvicorn runner (:func:`incident_platform.entrypoints.serve.serve`: 2 workers,
uvloop, httptools, no access log). The upsert is an ``async def`` endpoint on a
``psycopg_pool.AsyncConnectionPool`` per worker: no thread hop, no ORM, one
``INSERT ... ON CONFLICT`` per request in its own transaction (autocommit: one round
trip, committed before the 202). Honest means it still does what a real service
must: validate the body, wait at most ``BASELINE_POOL_TIMEOUT_SECONDS`` for a
connection, and answer 503 with Retry-After when the pool or the database fails.
What it leaves out is what the services add: middleware, authentication,
correlation, metrics.

Run: ``DATABASE_URL=... python -m bench.baseline_app --port 18000 --workers 2``.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import BaseModel, Field

from incident_platform.db import libpq_url
from incident_platform.entrypoints.serve import serve

UPSERT = (
    "INSERT INTO bench_upsert (key) VALUES (%s)"
    " ON CONFLICT (key) DO UPDATE SET hits = bench_upsert.hits + 1, updated_at = now()"
)
# Per worker; the services' pool is 10 + 10 overflow per worker (Settings.db_pool_size).
POOL_SIZE = int(os.environ.get("BASELINE_POOL_SIZE", "20"))
POOL_TIMEOUT_SECONDS = float(os.environ.get("BASELINE_POOL_TIMEOUT_SECONDS", "2"))


class Item(BaseModel):
    key: str = Field(min_length=1, max_length=255)


def _unavailable() -> JSONResponse:
    return JSONResponse(
        {"detail": "database unavailable"}, status_code=503, headers={"Retry-After": "1"}
    )


def build_app() -> FastAPI:
    pool = AsyncConnectionPool(
        libpq_url(os.environ["DATABASE_URL"]),
        min_size=POOL_SIZE,
        max_size=POOL_SIZE,
        timeout=POOL_TIMEOUT_SECONDS,
        kwargs={"autocommit": True},
        open=False,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True, timeout=30)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="Benchmark baseline", lifespan=lifespan)

    @app.get("/readyz")
    async def readyz() -> Response:
        try:
            async with pool.connection() as connection:
                await connection.execute("SELECT 1 FROM bench_upsert LIMIT 1")
        except (PoolTimeout, psycopg.OperationalError):
            return _unavailable()
        return Response(status_code=200)

    @app.get("/const")
    async def const() -> dict[str, str]:
        """(a) a constant: the cost of the HTTP stack alone."""
        return {"status": "ok"}

    @app.post("/upsert", status_code=202, response_model=None)
    async def upsert(item: Item) -> dict[str, str] | JSONResponse:
        """(b) one INSERT ... ON CONFLICT, committed before the answer."""
        try:
            async with pool.connection() as connection:
                await connection.execute(UPSERT, (item.key,))
        except (PoolTimeout, psycopg.OperationalError):
            return _unavailable()
        return {"key": item.key}

    return app


def main() -> None:
    serve("bench.baseline_app:build_app", default_port=18000)


if __name__ == "__main__":
    main()
