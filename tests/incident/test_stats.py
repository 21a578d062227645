"""MTTA and MTTR in SQL on the real database: which incidents count (from ``since``
inclusive, to ``until`` exclusive, on their local opening day), the percentiles, and the
empty cases."""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from incident_platform.incident.stats import DurationStats, daily_stats, incident_stats

T0 = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the day before Paris springs forward
NONE = DurationStats(0, None, None, None)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def opened(
    session: Session,
    at: datetime,
    acked_after: float | None = None,
    resolved_after: float | None = None,
) -> None:
    status = (
        "resolved"
        if resolved_after is not None
        else "acknowledged"
        if acked_after is not None
        else "triggered"
    )
    session.execute(
        text(
            "INSERT INTO incidents (title, service, severity, status, alert_count, created_at,"
            " acknowledged_at, resolved_at) VALUES ('t', :service, 'high', :status, 1, :at,"
            " :at + make_interval(secs => :ack), :at + make_interval(secs => :res))"
        ),
        {
            # One open incident per service: each its own.
            "service": f"svc-{uuid.uuid4()}",
            "status": status,
            "at": at,
            "ack": acked_after,
            "res": resolved_after,
        },
    )
    session.commit()


def test_counts_by_status_and_durations_over_incidents_since(session: Session) -> None:
    opened(session, T0 - timedelta(seconds=1), acked_after=5)  # before since: left out
    opened(session, T0, acked_after=60)  # exactly at since: counted
    opened(session, T0 + timedelta(minutes=1), acked_after=120, resolved_after=600)
    opened(session, T0 + timedelta(minutes=2), acked_after=30.0004)
    opened(session, T0 + timedelta(minutes=3))

    stats = incident_stats(session, T0)

    assert (stats.since, stats.total, stats.triggered, stats.acknowledged, stats.resolved) == (
        T0,
        4,
        1,
        2,
        1,
    )
    assert stats.time_to_acknowledge == DurationStats(3, 70.0, 60.0, 108.0)
    assert stats.time_to_resolve == DurationStats(1, 600.0, 600.0, 600.0)


def test_durations_are_rounded_to_milliseconds(session: Session) -> None:
    opened(session, T0, acked_after=1.23456)

    assert incident_stats(session, T0).time_to_acknowledge == DurationStats(1, 1.235, 1.235, 1.235)


def test_nothing_since_gives_zero_counts_and_no_durations(session: Session) -> None:
    opened(session, T0 - timedelta(days=1), acked_after=5, resolved_after=10)

    stats = incident_stats(session, T0)

    assert (stats.total, stats.triggered, stats.acknowledged, stats.resolved) == (0, 0, 0, 0)
    assert stats.time_to_acknowledge == stats.time_to_resolve == NONE


def test_daily_rows_cover_every_local_day_and_count_incidents_on_their_opening_day(
    session: Session,
) -> None:
    # 23:30 UTC on the 28th is already the 29th in Paris (UTC+1 then).
    opened(session, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), acked_after=60)
    opened(session, datetime(2026, 3, 28, 22, 59, tzinfo=UTC), acked_after=30, resolved_after=90)
    # The 29th is 23 hours long in Paris; this is its last minute (21:59 UTC).
    opened(session, datetime(2026, 3, 29, 21, 59, tzinfo=UTC))
    opened(session, datetime(2026, 3, 31, 22, 0, tzinfo=UTC))  # 1 April 00:00 Paris: out

    since = datetime(2026, 3, 27, 23, 0, tzinfo=UTC)  # 28 March 00:00 Paris
    until = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # 1 April 00:00 Paris (exclusive)
    days = daily_stats(session, since, until, "Europe/Paris")

    assert [(d.day, d.opened) for d in days] == [
        (date(2026, 3, 28), 1),
        (date(2026, 3, 29), 2),
        (date(2026, 3, 30), 0),
        (date(2026, 3, 31), 0),
    ]
    assert days[0].time_to_acknowledge == DurationStats(1, 30.0, 30.0, 30.0)
    assert days[0].time_to_resolve == DurationStats(1, 90.0, 90.0, 90.0)
    assert days[1].time_to_acknowledge == DurationStats(1, 60.0, 60.0, 60.0)
    assert days[1].time_to_resolve == NONE
    assert days[2].time_to_acknowledge == days[2].time_to_resolve == NONE


def test_the_same_instants_fall_on_other_days_in_another_zone(session: Session) -> None:
    opened(session, datetime(2026, 3, 28, 23, 30, tzinfo=UTC))

    since = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    days = daily_stats(session, since, since + timedelta(days=2), "UTC")

    assert [(d.day, d.opened) for d in days] == [(date(2026, 3, 28), 1), (date(2026, 3, 29), 0)]
