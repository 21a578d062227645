"""The baseline for rows (a) and (b): bare endpoints on the services' own stack.

Same FastAPI, same uvicorn runner (:func:`incident_platform.entrypoints.serve.serve`: 2 workers,
uvloop, httptools, no access log), same SQLAlchemy engine over psycopg 3 with the
same pool settings (:func:`incident_platform.db.make_engine`), and sync ``def``
endpoints run in the threadpool like the services' routes. What it leaves out is
what the services add: middleware, authentication, correlation, metrics.

Run: ``DATABASE_URL=... python -m bench.baseline_app --port 18000 --workers 2``.
"""

import os

from fastapi import FastAPI, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from incident_platform.db import make_engine
from incident_platform.entrypoints.serve import serve
from incident_platform.settings import Settings

UPSERT = text(
    "INSERT INTO bench_upsert (key) VALUES (:key)"
    " ON CONFLICT (key) DO UPDATE SET hits = bench_upsert.hits + 1, updated_at = now()"
)


class Item(BaseModel):
    key: str = Field(min_length=1, max_length=255)


def build_app() -> FastAPI:
    engine = make_engine(Settings(database_url=os.environ["DATABASE_URL"]))
    app = FastAPI(title="Benchmark baseline")

    @app.get("/readyz")
    def readyz() -> Response:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1 FROM bench_upsert LIMIT 1"))
        return Response(status_code=200)

    @app.get("/const")
    def const() -> dict[str, str]:
        """(a) a constant: the cost of the HTTP stack alone."""
        return {"status": "ok"}

    @app.post("/upsert", status_code=202)
    def upsert(item: Item) -> dict[str, str]:
        """(b) one INSERT ... ON CONFLICT in its own transaction."""
        with engine.begin() as connection:
            connection.execute(UPSERT, {"key": item.key})
        return {"key": item.key}

    return app


def main() -> None:
    serve("bench.baseline_app:build_app", default_port=18000)


if __name__ == "__main__":
    main()
