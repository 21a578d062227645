"""Flap histories in PostgreSQL: the statements correlation and the flap sweep run, on the
real schema. A history is written only over the one its plan read; an incident is flapping
while any of its alerts flaps; starts and stops go on its timeline.

On a database of this module's own: the session's ingestion services sweep quiet flapping
histories every few seconds, and would change these tests' rows under them."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from incident_platform.alert.correlation import FlapRecord
from incident_platform.db import libpq_url, migrate
from incident_platform.flapping.rules import AlertState, FlapHistory
from incident_platform.flapping.store import (
    READ_FLAPS,
    RECORD_FLAPS,
    TAKE_QUIET_FLAPS,
    flap_columns,
    flap_message,
    flap_records,
)
from support.database import create_database, drop_database, truncate_all

F, R = AlertState.FIRING, AlertState.RESOLVED
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

Change = tuple[str, str, FlapHistory, FlapHistory, int | None, bool, bool]


@pytest.fixture(scope="module")
def flaps_database(postgres_server: str) -> Iterator[str]:
    url = create_database(postgres_server)
    migrate(url)
    yield url
    drop_database(postgres_server, url)


@pytest.fixture
def db(flaps_database: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    truncate_all(flaps_database)
    with psycopg.connect(libpq_url(flaps_database), row_factory=dict_row) as connection:
        yield connection


def fire(db: psycopg.Connection[dict[str, Any]], fingerprint: str) -> int:
    """A firing alert of service ``flaky`` (one open incident for all of them); its incident."""
    found = db.execute("SELECT id FROM incidents WHERE service = 'flaky'").fetchone()
    if found is None:
        found = db.execute(
            "INSERT INTO incidents (title, service, severity, status, alert_count)"
            " VALUES ('flaky is down', 'flaky', 'high', 'triggered', 1) RETURNING id"
        ).fetchone()
    assert found is not None
    db.execute(
        "INSERT INTO alerts (incident_id, status, fingerprint, service, summary, severity,"
        " occurrences) VALUES (%s, 'firing', %s, 'flaky', %s, 'high', 1)",
        (found["id"], fingerprint, f"{fingerprint} is down"),
    )
    db.commit()
    return int(found["id"])


def record(db: psycopg.Connection[dict[str, Any]], *changes: Change) -> list[str]:
    written = db.execute(RECORD_FLAPS, {**flap_columns(list(changes)), "actor": "system"})
    fingerprints = [row["fingerprint"] for row in written.fetchall()]
    db.commit()
    return sorted(fingerprints)


def flapping(percent: float, at: datetime) -> FlapHistory:
    return FlapHistory((F, R, F, R, F), at, flapping=True, percent=percent)


def incident_row(db: psycopg.Connection[dict[str, Any]], incident: int) -> dict[str, Any]:
    row = db.execute("SELECT flapping, change_seq FROM incidents WHERE id = %s", (incident,))
    found = row.fetchone()
    assert found is not None
    return found


def timeline(db: psycopg.Connection[dict[str, Any]], incident: int) -> list[tuple[str, str]]:
    rows = db.execute(
        "SELECT kind, data->>'fingerprint' AS fp FROM timeline_events"
        " WHERE incident_id = %s AND kind LIKE 'flapping%%' ORDER BY id",
        (incident,),
    )
    return [(row["kind"], row["fp"]) for row in rows]


def test_a_first_history_takes_the_firing_alerts_incident_and_marks_it_flapping(
    db: psycopg.Connection[dict[str, Any]],
) -> None:
    incident = fire(db, "fp-a")
    before = incident_row(db, incident)
    after = flapping(42.0, T0)

    assert record(db, ("fp-a", "fp-a is down", FlapHistory(), after, None, True, False)) == ["fp-a"]

    rows = db.execute(READ_FLAPS, {"fingerprints": ["fp-a", "fp-unknown"]}).fetchall()
    assert flap_records(rows) == {"fp-a": FlapRecord(after, incident, incident_open=True)}
    marked = incident_row(db, incident)
    assert marked["flapping"] is True
    assert marked["change_seq"] > before["change_seq"], "the change feed must see the mark"
    assert timeline(db, incident) == [("flapping_started", "fp-a")]
    message = db.execute(
        "SELECT message, actor FROM timeline_events WHERE kind = 'flapping_started'"
    ).fetchone()
    assert message == {
        "message": flap_message("fp-a is down", after, started=True),
        "actor": "system",
    }


def test_a_writer_whose_history_changed_meanwhile_writes_nothing(
    db: psycopg.Connection[dict[str, Any]],
) -> None:
    incident = fire(db, "fp-a")
    first = flapping(42.0, T0)
    record(db, ("fp-a", "s", FlapHistory(), first, incident, True, False))
    stale = FlapHistory((F,), T0 - timedelta(minutes=1))  # not what is stored any more
    calm = FlapHistory((F, R), T0 + timedelta(minutes=1), flapping=False, percent=5.0)

    assert record(db, ("fp-a", "s", stale, calm, incident, False, True)) == []

    rows = db.execute(READ_FLAPS, {"fingerprints": ["fp-a"]}).fetchall()
    assert flap_records(rows)["fp-a"].history == first
    assert incident_row(db, incident)["flapping"] is True
    assert timeline(db, incident) == [("flapping_started", "fp-a")]


def test_an_incident_stays_flapping_while_any_of_its_alerts_flaps(
    db: psycopg.Connection[dict[str, Any]],
) -> None:
    incident = fire(db, "fp-a")
    assert fire(db, "fp-b") == incident
    a, b = flapping(40.0, T0), flapping(35.0, T0)
    record(
        db,
        ("fp-a", "a", FlapHistory(), a, incident, True, False),
        ("fp-b", "b", FlapHistory(), b, incident, True, False),
    )
    a_calm = FlapHistory((F, R, F), T0 + timedelta(minutes=5), flapping=False, percent=10.0)
    b_calm = FlapHistory((F, R, F), T0 + timedelta(minutes=6), flapping=False, percent=12.0)

    record(db, ("fp-a", "a", a, a_calm, incident, False, True))
    assert incident_row(db, incident)["flapping"] is True, "fp-b still flaps"

    record(db, ("fp-b", "b", b, b_calm, incident, False, True))
    assert incident_row(db, incident)["flapping"] is False
    assert timeline(db, incident) == [
        ("flapping_started", "fp-a"),
        ("flapping_started", "fp-b"),
        ("flapping_stopped", "fp-a"),
        ("flapping_stopped", "fp-b"),
    ]


def test_a_history_without_a_firing_alert_or_incident_is_kept_without_one(
    db: psycopg.Connection[dict[str, Any]],
) -> None:
    history = FlapHistory((F, R), T0, flapping=False, percent=0.0)

    assert record(db, ("fp-nowhere", "s", FlapHistory(), history, None, False, False)) == [
        "fp-nowhere"
    ]

    rows = db.execute(READ_FLAPS, {"fingerprints": ["fp-nowhere"]}).fetchall()
    assert flap_records(rows) == {"fp-nowhere": FlapRecord(history, None, incident_open=False)}
    assert db.execute("SELECT count(*) AS n FROM timeline_events").fetchone() == {"n": 0}


def test_the_sweep_takes_only_flapping_histories_quiet_for_a_check_interval(
    db: psycopg.Connection[dict[str, Any]],
) -> None:
    now = db.execute("SELECT statement_timestamp() AS now").fetchone()
    assert now is not None
    interval = timedelta(minutes=5)
    quiet_long = flapping(40.0, now["now"] - timedelta(minutes=20))
    quiet_enough = flapping(40.0, now["now"] - interval - timedelta(seconds=1))
    recent = flapping(40.0, now["now"] - timedelta(minutes=1))
    calm = FlapHistory((F, R), now["now"] - timedelta(hours=1), flapping=False, percent=3.0)
    record(
        db,
        ("fp-long", "s", FlapHistory(), quiet_long, None, False, False),
        ("fp-enough", "s", FlapHistory(), quiet_enough, None, False, False),
        ("fp-recent", "s", FlapHistory(), recent, None, False, False),
        ("fp-calm", "s", FlapHistory(), calm, None, False, False),
    )

    taken = db.execute(TAKE_QUIET_FLAPS, {"interval": interval, "limit": 10}).fetchall()
    first = db.execute(TAKE_QUIET_FLAPS, {"interval": interval, "limit": 1}).fetchall()
    db.rollback()

    assert [row["fingerprint"] for row in taken] == ["fp-long", "fp-enough"], "oldest first"
    assert [row["fingerprint"] for row in first] == ["fp-long"]
    assert flap_records(taken)["fp-long"].history == quiet_long


def test_messages_say_whether_the_alert_started_or_stopped_flapping() -> None:
    history = FlapHistory((F, R), T0, flapping=True, percent=37.4)

    assert flap_message("db down", history, started=True) == (
        "Alert is flapping (37% state change over its last 21 states): its resolutions keep"
        " the incident open and pages are held: db down"
    )
    assert flap_message("db down", history, started=False) == (
        "Alert stopped flapping (37% state change over its last 21 states): db down"
    )
