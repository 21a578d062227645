"""Schedules as stored JSON: the document the API has always stored (offsets kept, Z for
UTC, "HH:MM" clocks, day names), read back as the same schedule."""

from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from incident_platform.schedule import (
    CustomRotation,
    DailyRotation,
    Layer,
    Restriction,
    Schedule,
    Weekday,
    WeeklyRotation,
)
from incident_platform.schedule.codec import instant_to_json, layers_to_json, schedule_from_json

PARIS_WINTER = timezone(timedelta(hours=1))
SCHEDULE = Schedule(
    "payments",
    "Europe/Paris",
    (
        Layer(
            "weekly",
            ("u1", "u2"),
            datetime(2026, 1, 5, 9, 0, tzinfo=PARIS_WINTER),
            WeeklyRotation(time(9), Weekday.MONDAY),
            (Restriction(frozenset({Weekday.TUESDAY, Weekday.MONDAY}), time(22), time(6)),),
        ),
        Layer("daily", ("u3",), datetime(2026, 1, 5, 8, tzinfo=UTC), DailyRotation(time(2, 30))),
        Layer("custom", ("u4",), datetime(2026, 1, 5, 8, tzinfo=UTC), CustomRotation(12)),
    ),
)


def test_the_stored_document() -> None:
    assert layers_to_json(SCHEDULE) == [
        {
            "name": "weekly",
            "users": ["u1", "u2"],
            "start": "2026-01-05T09:00:00+01:00",
            "rotation": {"type": "weekly", "handoff_time": "09:00", "handoff_day": "monday"},
            "restrictions": [{"days": ["mon", "tue"], "start": "22:00", "end": "06:00"}],
        },
        {
            "name": "daily",
            "users": ["u3"],
            "start": "2026-01-05T08:00:00Z",
            "rotation": {"type": "daily", "handoff_time": "02:30"},
            "restrictions": [],
        },
        {
            "name": "custom",
            "users": ["u4"],
            "start": "2026-01-05T08:00:00Z",
            "rotation": {"type": "custom", "shift_hours": 12.0},
            "restrictions": [],
        },
    ]


def test_a_stored_schedule_reads_back_as_the_same_schedule() -> None:
    stored = layers_to_json(SCHEDULE)

    assert schedule_from_json("payments", "Europe/Paris", stored) == SCHEDULE


def test_older_documents_without_restrictions_read_as_unrestricted() -> None:
    stored = layers_to_json(SCHEDULE)
    del stored[1]["restrictions"]

    assert schedule_from_json("p", "UTC", stored).layers[1].restrictions == ()


def test_instants_keep_their_offset_and_utc_is_written_z() -> None:
    assert instant_to_json(datetime(2026, 3, 1, 12, tzinfo=UTC)) == "2026-03-01T12:00:00Z"
    assert instant_to_json(datetime(2026, 3, 1, 12, tzinfo=PARIS_WINTER)) == (
        "2026-03-01T12:00:00+01:00"
    )
    assert instant_to_json(datetime(2026, 3, 1, 12, 0, 0, 500, tzinfo=UTC)) == (
        "2026-03-01T12:00:00.000500Z"
    )


def test_an_unknown_rotation_type_on_disk_is_an_error_naming_it() -> None:
    stored = layers_to_json(SCHEDULE)
    stored[0]["rotation"] = {"type": "hourly", "handoff_time": "09:00"}

    with pytest.raises(ValueError, match="unknown rotation type 'hourly' in a stored schedule"):
        schedule_from_json("p", "UTC", stored)
