"""A ready-made heavy schedule for the bench's schedule rows (``bench/scenarios.py``)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from incident_platform.schedule.restrictions import Restriction
from incident_platform.schedule.rotation import CustomRotation, DailyRotation, WeeklyRotation
from incident_platform.schedule.rules import Layer, Override, Schedule
from incident_platform.schedule.wallclock import Weekday


def benchmark_schedule(
    zone: str = "Europe/Paris",
) -> tuple[Schedule, tuple[Override, ...], datetime]:
    """3 layers, 20 users, started years ago, with 50 overrides around ``now``."""
    tz = ZoneInfo(zone)
    users = tuple(f"user-{number:02d}" for number in range(20))
    weekdays = frozenset({Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY})
    schedule = Schedule(
        name="benchmark",
        timezone=zone,
        layers=(
            Layer(
                "weekly",
                users,
                datetime(2016, 1, 4, 9, tzinfo=tz),
                WeeklyRotation(time(9), Weekday.MONDAY),
            ),
            Layer(
                "follow-the-sun",
                users[:10],
                datetime(2018, 6, 1, 8, tzinfo=tz),
                CustomRotation(shift_hours=12),
                (Restriction(weekdays | {Weekday.FRIDAY}, time(8), time(20)),),
            ),
            Layer(
                "nights",
                users[10:],
                datetime(2020, 2, 29, 22, tzinfo=tz),
                DailyRotation(time(22)),
                (Restriction(weekdays, time(22), time(6)),),
            ),
        ),
    )
    now = datetime(2026, 3, 27, 12, tzinfo=tz).astimezone(UTC)
    # In UTC, as the store hands them over (Postgres timestamptz read in a UTC session).
    overrides = tuple(
        Override(
            user=users[number % 20],
            start=now + timedelta(hours=7 * number - 150),
            end=now + timedelta(hours=7 * number - 150 + 5 + number % 9),
            sequence=number,
        )
        for number in range(50)
    )
    return schedule, overrides, now
