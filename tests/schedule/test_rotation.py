"""Rotation rules: who is on call when, per rotation type, before and long after the start."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from incident_platform.schedule import (
    CustomRotation,
    DailyRotation,
    Layer,
    OnCall,
    Rotation,
    Schedule,
    Weekday,
    WeeklyRotation,
    oncall_at,
    render_shifts,
)

PARIS = ZoneInfo("Europe/Paris")
USERS = ("alice", "bob", "carol")


def single_layer(rotation: Rotation, start: datetime, users: tuple[str, ...] = USERS) -> Schedule:
    return Schedule("primary", "Europe/Paris", (Layer("main", users, start, rotation),))


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def test_daily_first_shift_ends_at_the_first_handoff_after_start() -> None:
    schedule = single_layer(DailyRotation(time(9)), paris(2026, 1, 5, 14, 0))

    shifts = render_shifts(schedule, [], paris(2026, 1, 5), paris(2026, 1, 9))

    assert [(s.user, s.start, s.end) for s in shifts] == [
        ("alice", paris(2026, 1, 5, 14), paris(2026, 1, 6, 9)),
        ("bob", paris(2026, 1, 6, 9), paris(2026, 1, 7, 9)),
        ("carol", paris(2026, 1, 7, 9), paris(2026, 1, 8, 9)),
        ("alice", paris(2026, 1, 8, 9), paris(2026, 1, 9)),
    ]


def test_daily_start_exactly_at_a_handoff_gets_a_full_first_shift() -> None:
    schedule = single_layer(DailyRotation(time(9)), paris(2026, 1, 5, 9, 0))

    first = oncall_at(schedule, [], paris(2026, 1, 5, 9, 0))

    assert first == OnCall("alice", "main", paris(2026, 1, 5, 9), paris(2026, 1, 6, 9))


def test_weekly_hands_off_on_the_named_day_only() -> None:
    # 2026-01-07 is a Wednesday; the first hand-off is Monday 2026-01-12 at 09:00.
    schedule = single_layer(WeeklyRotation(time(9, 0), Weekday.MONDAY), paris(2026, 1, 7, 12, 0))

    shifts = render_shifts(schedule, [], paris(2026, 1, 7, 12), paris(2026, 1, 26, 9))

    assert [(s.user, s.start, s.end) for s in shifts] == [
        ("alice", paris(2026, 1, 7, 12), paris(2026, 1, 12, 9)),
        ("bob", paris(2026, 1, 12, 9), paris(2026, 1, 19, 9)),
        ("carol", paris(2026, 1, 19, 9), paris(2026, 1, 26, 9)),
    ]


def test_custom_shifts_are_fixed_length_in_absolute_time() -> None:
    start = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    schedule = single_layer(CustomRotation(shift_hours=12), start)

    shifts = render_shifts(schedule, [], start, start + timedelta(days=2))

    assert [s.end - s.start for s in shifts] == [timedelta(hours=12)] * 4
    assert [s.user for s in shifts] == ["alice", "bob", "carol", "alice"]
    # Across the Paris spring-forward the local hand-off moves from 21:00 to 22:00.
    assert shifts[2].start.astimezone(PARIS).hour == 10
    assert shifts[3].start.astimezone(PARIS).hour == 22


def test_fractional_custom_shift_length() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    schedule = single_layer(CustomRotation(shift_hours=1.5), start, ("a", "b"))

    oncall = oncall_at(schedule, [], start + timedelta(hours=4))

    assert oncall == OnCall("a", "main", start + timedelta(hours=3), start + timedelta(hours=4.5))


@pytest.mark.parametrize(
    "rotation",
    [DailyRotation(time(9)), WeeklyRotation(time(9), Weekday.FRIDAY), CustomRotation(8)],
)
def test_nobody_is_on_call_before_the_layer_starts(rotation: Rotation) -> None:
    start = paris(2026, 2, 1, 10)
    schedule = single_layer(rotation, start)

    assert oncall_at(schedule, [], start - timedelta(microseconds=1)) is None
    assert oncall_at(schedule, [], start) is not None
    shifts = render_shifts(schedule, [], start - timedelta(days=3), start + timedelta(days=1))
    assert shifts[0].start == start


def test_daily_layer_started_years_ago_counts_every_day() -> None:
    schedule = single_layer(DailyRotation(time(9)), paris(2015, 1, 1, 9), ("a", "b", "c", "d", "e"))
    at = paris(2026, 6, 15, 10)

    oncall = oncall_at(schedule, [], at)

    days = (at.date() - schedule.layers[0].start.date()).days
    assert oncall is not None
    assert oncall.user == "abcde"[days % 5]
    assert (oncall.shift_start, oncall.shift_end) == (paris(2026, 6, 15, 9), paris(2026, 6, 16, 9))


def test_weekly_layer_started_years_ago_counts_every_week() -> None:
    # 2015-01-05 was a Monday.
    schedule = single_layer(
        WeeklyRotation(time(9), Weekday.MONDAY), paris(2015, 1, 5, 9), ("a", "b", "c", "d")
    )
    at = paris(2026, 6, 17, 10)  # a Wednesday

    oncall = oncall_at(schedule, [], at)

    weeks = (datetime(2026, 6, 15).date() - datetime(2015, 1, 5).date()).days // 7
    assert oncall is not None
    assert oncall.user == "abcd"[weeks % 4]
    assert oncall.shift_start == paris(2026, 6, 15, 9)


def test_custom_layer_started_years_ago_uses_absolute_hours() -> None:
    start = datetime(2012, 2, 29, 0, 0, tzinfo=UTC)
    schedule = single_layer(CustomRotation(shift_hours=7), start, ("a", "b", "c"))
    at = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)

    oncall = oncall_at(schedule, [], at)

    index = (at - start) // timedelta(hours=7)
    assert oncall is not None
    assert oncall.user == "abc"[index % 3]
    assert oncall.shift_start == start + index * timedelta(hours=7)


def test_results_are_in_utc_whatever_the_input_zone() -> None:
    schedule = single_layer(DailyRotation(time(9)), paris(2026, 1, 5, 9))

    oncall = oncall_at(schedule, [], datetime(2026, 1, 6, 1, tzinfo=ZoneInfo("Asia/Tokyo")))

    assert oncall is not None
    assert oncall.shift_start.tzinfo is UTC
    assert oncall.shift_start == datetime(2026, 1, 5, 8, tzinfo=UTC)


def test_one_user_layer_keeps_one_shift_per_handoff() -> None:
    schedule = single_layer(DailyRotation(time(9)), paris(2026, 1, 5, 9), ("solo",))

    shifts = render_shifts(schedule, [], paris(2026, 1, 5, 9), paris(2026, 1, 8, 9))

    assert [(s.start, s.end) for s in shifts] == [
        (paris(2026, 1, 5, 9), paris(2026, 1, 6, 9)),
        (paris(2026, 1, 6, 9), paris(2026, 1, 7, 9)),
        (paris(2026, 1, 7, 9), paris(2026, 1, 8, 9)),
    ]
