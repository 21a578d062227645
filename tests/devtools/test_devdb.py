"""The embedded PostgreSQL and the throw-away databases of make run, the tests and the
bench."""

from pathlib import Path

import psycopg
import pytest

from incident_platform.db import libpq_url
from incident_platform.devtools.devdb import (
    EmbeddedPostgres,
    answers,
    create_database,
    drop_database,
    find_server,
)


def test_a_created_database_is_new_usable_and_dropped_even_while_in_use(
    postgres_server: str,
) -> None:
    first = create_database(postgres_server, "ipt_devdb")
    second = create_database(postgres_server, "ipt_devdb")
    assert first != second
    assert first.rsplit("/", 1)[1].split("?")[0].startswith("ipt_devdb_")
    holder = psycopg.connect(libpq_url(first))  # a session still open on it
    try:
        assert holder.execute("SELECT current_database()").fetchone() == (
            first.rsplit("/", 1)[1].split("?")[0],
        )
        drop_database(postgres_server, first)
    finally:
        holder.close()
    assert not answers(first)
    assert answers(second)
    drop_database(postgres_server, second)
    drop_database(postgres_server, second)  # dropping twice is harmless


def test_find_server_takes_the_configured_one_first(tmp_path: Path) -> None:
    configured = "postgresql+psycopg://someone@db.example:5432/x"
    assert find_server(tmp_path, configured) == configured
    assert not (tmp_path / "embedded-postgres").exists()


def test_the_embedded_server_listens_on_its_socket_and_stops(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    with pytest.raises(RuntimeError):
        _ = server.url
    url = server.start()
    try:
        assert f"host={server.datadir}" in url
        assert answers(url)
        assert server.start() == url  # starting again reuses the running one
    finally:
        server.stop()
    assert not answers(url)
