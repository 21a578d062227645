"""The periodic sweep thread: it keeps sweeping through outages and bugs, logs what it did,
and stops when told."""

import logging
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import text

from incident_platform.db import DatabaseUnavailable, make_engine
from incident_platform.settings import Settings
from incident_platform.sweeper import PeriodicSweep

# Nothing listens on port 1: connecting fails the way a database outage does.
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none"


def counting(
    outcomes: list[Callable[[], int]], calls: list[int], done: threading.Event
) -> Callable[[], int]:
    """A sweep that plays ``outcomes`` in turn, then sets ``done`` and handles nothing."""

    def sweep() -> int:
        calls.append(len(calls))
        if len(calls) <= len(outcomes):
            return outcomes[len(calls) - 1]()
        done.set()
        return 0

    return sweep


def run_until_done(sweep: Callable[[], int], done: threading.Event) -> None:
    periodic = PeriodicSweep("test sweep", lambda: 0.01, sweep, "swept %d things")
    periodic.start()
    try:
        assert done.wait(timeout=30), "the sweep stopped running"
    finally:
        periodic.stop()


def test_each_tick_sweeps_and_logs_only_the_ticks_that_handled_something(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []
    done = threading.Event()
    caplog.set_level(logging.INFO, logger="incident_platform.sweeper")

    run_until_done(counting([lambda: 3, lambda: 0, lambda: 1], calls, done), done)

    assert len(calls) >= 4
    assert [r.getMessage() for r in caplog.records] == ["swept 3 things", "swept 1 things"]


def test_a_database_outage_is_a_warning_and_the_sweep_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine(Settings(database_url=UNREACHABLE))

    def against_a_missing_database() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT 1")).scalar_one())

    def unavailable() -> int:
        raise DatabaseUnavailable

    calls: list[int] = []
    done = threading.Event()
    try:
        run_until_done(counting([against_a_missing_database, unavailable], calls, done), done)
    finally:
        engine.dispose()

    assert len(calls) >= 3, "the sweep must run again after an outage"
    warnings = [r for r in caplog.records if r.name == "incident_platform.sweeper"]
    assert [(r.levelno, r.getMessage(), r.exc_info) for r in warnings] == [
        (logging.WARNING, "test sweep skipped: database unavailable", None),
        (logging.WARNING, "test sweep skipped: database unavailable", None),
    ]


def test_a_bug_is_logged_with_its_traceback_and_the_sweep_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> int:
        raise KeyError("fingerprint")

    calls: list[int] = []
    done = threading.Event()
    run_until_done(counting([broken], calls, done), done)

    assert len(calls) >= 2
    (record,) = [r for r in caplog.records if r.name == "incident_platform.sweeper"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "test sweep failed"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], KeyError)


def test_stop_ends_the_thread_and_nothing_runs_after_it() -> None:
    calls: list[int] = []
    first = threading.Event()

    def sweep() -> int:
        calls.append(1)
        first.set()
        return 0

    periodic = PeriodicSweep("stopping", lambda: 0.01, sweep, "swept %d")
    periodic.start()
    assert first.wait(timeout=30)
    periodic.stop()
    after_stop = len(calls)
    periodic.stop()  # a second stop is harmless

    assert not any(t.name == "stopping" and t.is_alive() for t in threading.enumerate())
    assert len(calls) == after_stop


def test_the_interval_is_read_once_when_the_thread_starts() -> None:
    reads: list[int] = []
    ticked = threading.Event()

    def interval() -> float:
        reads.append(1)
        return 0.01

    def sweep() -> int:
        if len(reads) and ticked.is_set() is False:
            ticked.set()
        return 0

    periodic = PeriodicSweep("interval", interval, sweep, "swept %d")
    assert reads == [], "nothing is read before start"
    periodic.start()
    assert ticked.wait(timeout=30)
    periodic.stop()

    assert reads == [1]
