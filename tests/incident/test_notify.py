"""Waking the event streams: NOTIFY incident_changes on the real database after a commit,
never raising in the writer, and reconnecting after the notifier's connection is lost."""

import logging
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from incident_platform.db import libpq_url, make_engine
from incident_platform.incident.notify import CHANNEL, ChangeNotifier, incidents_changed
from incident_platform.settings import Settings

WAIT_SECONDS = 30.0
NAME = "notify-test"


@pytest.fixture
def listener(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(f"LISTEN {CHANNEL}")
        yield connection


def next_notification(listener: psycopg.Connection[tuple[object, ...]]) -> str:
    for notification in listener.notifies(timeout=WAIT_SECONDS, stop_after=1):
        return notification.channel
    raise AssertionError("no notification arrived")


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "incident_platform.incident.notify" and r.levelno == logging.WARNING
    ]


def test_a_change_wakes_a_listener_on_the_channel(
    database_url: str, listener: psycopg.Connection[tuple[object, ...]]
) -> None:
    ChangeNotifier(libpq_url(database_url), 0.0).changed()

    assert next_notification(listener) == "incident_changes"


def test_an_unreachable_database_is_a_warning_not_an_error_in_the_writer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = ChangeNotifier("postgresql://nobody@127.0.0.1:1/none", 0.0)

    notifier.changed()  # returns at once, raises nothing

    wait_until("the failed notification is logged", lambda: bool(warnings(caplog)))
    assert warnings(caplog)[0] == "could not notify incident change: OperationalError"


def test_a_lost_connection_is_replaced_at_the_next_change(
    database_url: str,
    listener: psycopg.Connection[tuple[object, ...]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = ChangeNotifier(make_conninfo(libpq_url(database_url), application_name=NAME), 0.0)
    notifier.changed()
    next_notification(listener)

    with psycopg.connect(libpq_url(database_url), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            (NAME,),
        ).fetchone()
    assert killed == (1,)
    notifier.changed()
    wait_until("the send on the dead connection is logged", lambda: bool(warnings(caplog)))
    notifier.changed()

    assert next_notification(listener) == "incident_changes"


def test_writers_notify_through_their_engine_or_connection(
    database_url: str, listener: psycopg.Connection[tuple[object, ...]]
) -> None:
    engine = make_engine(Settings(database_url=database_url))
    try:
        incidents_changed(engine)
        assert next_notification(listener) == "incident_changes"
        with engine.connect() as connection:
            incidents_changed(connection)
        assert next_notification(listener) == "incident_changes"
    finally:
        engine.dispose()
