"""Releasing the alerts of ended silences (``alert.ingest``), once each, into one incident
per service, however many sweepers (workers, replicas) run at the same time. The
correlation guarantees under concurrent requests are in ``test_ingest_concurrency.py``."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from incident_platform.alert.correlation import AlertSignal, AlertStatus, IngestAction
from incident_platform.alert.ingest import ingest, sweep_ended_silences
from incident_platform.db import OUTAGE_ERRORS, DatabaseUnavailable, make_engine
from incident_platform.settings import Settings
from support.database import connect
from support.platform import Platform


@pytest.fixture
def db(platform: Platform) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=platform.database_url, db_pool_size=6))
    yield engine
    engine.dispose()


def add_silence(platform: Platform, matchers: str) -> None:
    now = datetime.now(UTC)
    with connect(platform.database_url) as connection:
        connection.execute(
            "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment)"
            " VALUES (gen_random_uuid(), %s::jsonb, %s, %s, 'test', 'maintenance')",
            (matchers, now - timedelta(minutes=1), now + timedelta(hours=1)),
        )
        connection.commit()


def end_silences(platform: Platform) -> None:
    """As if their endsAt had passed: nothing but the sweep releases them."""
    with connect(platform.database_url) as connection:
        connection.execute("UPDATE silences SET ends_at = now(), starts_at = now() - interval '1h'")
        connection.commit()


def unreleased_count(platform: Platform) -> int:
    with connect(platform.database_url) as connection:
        row = connection.execute("SELECT count(*) FROM alerts WHERE incident_id IS NULL").fetchone()
    assert row is not None
    count = row[0]
    assert isinstance(count, int)
    return count


def test_concurrent_sweepers_release_each_alert_once(platform: Platform, db: Engine) -> None:
    add_silence(platform, '[{"name": "team", "value": "core", "isRegex": false}]')
    signals = [
        AlertSignal(f"fp-{n}", f"svc-{n % 5}", f"alert {n}", labels={"team": "core"})
        for n in range(60)
    ]
    batch = ingest(db, signals, actor="test", auto_resolve=True)
    assert {o.action for o in batch.outcomes} == {IngestAction.SILENCED}
    end_silences(platform)

    # The running services' own sweepers join in too: all of them race for the same rows.
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: sweep_ended_silences(db, batch=7), range(4)))
    # A sweep that finds another sweeper holding the lock returns at once; the holder may be
    # a service's sweep that read before the silences ended. Sweep until the holders are done.
    deadline = time.monotonic() + 30
    while unreleased_count(platform) and time.monotonic() < deadline:
        sweep_ended_silences(db, batch=7)
        time.sleep(0.1)
    assert unreleased_count(platform) == 0
    with connect(platform.database_url) as connection:
        incidents = connection.execute(
            "SELECT service, alert_count FROM incidents ORDER BY service"
        ).fetchall()
        released = connection.execute(
            "SELECT sum(jsonb_array_length(data->'alert_ids')) FROM timeline_events"
        ).fetchone()
    # Released twice, an alert would count twice and be on the timeline twice.
    assert incidents == [(f"svc-{n}", 12) for n in range(5)]
    assert released == (60,)


def test_sweep_leaves_alerts_of_active_silences_and_resolved_ones_alone(
    platform: Platform, db: Engine
) -> None:
    add_silence(platform, '[{"name": "service", "value": "api", "isRegex": false}]')
    firing = AlertSignal("fp-1", "api", "api down")
    ingest(db, [firing], actor="test", auto_resolve=True)
    assert sweep_ended_silences(db) == 0
    resolved = AlertSignal("fp-1", "api", "api down", status=AlertStatus.RESOLVED)
    assert ingest(db, [resolved], actor="test", auto_resolve=True).outcomes[0].action is (
        IngestAction.RESOLVED
    )
    end_silences(platform)
    assert sweep_ended_silences(db) == 0
    with connect(platform.database_url) as connection:
        assert connection.execute("SELECT count(*) FROM incidents").fetchone() == (0,)


def test_a_sweep_without_its_database_fails_as_an_outage_the_loop_skips() -> None:
    # Nothing listens on port 1: the sweep must fail as an outage (logged, retried on the
    # next tick), not as a bug.
    engine = make_engine(Settings(database_url="postgresql+psycopg://x@127.0.0.1:1/none"))
    try:
        with pytest.raises((DatabaseUnavailable, *OUTAGE_ERRORS)):
            sweep_ended_silences(engine)
    finally:
        engine.dispose()
