"""Hand-offs and windows across DST: wall-clock hand-offs, 23/25 h shifts, gaps, folds."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from incident_platform.schedule import (
    DailyRotation,
    Layer,
    Restriction,
    Rotation,
    Schedule,
    Shift,
    Weekday,
    WeeklyRotation,
    layer_shifts,
    oncall_at,
    render_shifts,
    wall_clock_to_utc,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
APIA = ZoneInfo("Pacific/Apia")
ALL_DAYS = frozenset(Weekday)


def schedule_in(zone: ZoneInfo, rotation: Rotation, start: datetime, *users: str) -> Schedule:
    layer = Layer("main", users or ("a", "b", "c"), start, rotation)
    return Schedule("dst", zone.key, (layer,))


def shifts_around(schedule: Schedule, zone: ZoneInfo, first: date, last: date) -> list[Shift]:
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last, time(), zone)
    return render_shifts(schedule, [], start, end)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def assert_tiles(shifts: list[Shift]) -> None:
    for before, after in itertools.pairwise(shifts):
        assert before.end == after.start


def test_paris_daily_0900_spring_forward_shift_is_23_hours() -> None:
    schedule = schedule_in(PARIS, DailyRotation(time(9)), datetime(2026, 3, 1, 9, tzinfo=PARIS))

    shifts = shifts_around(schedule, PARIS, date(2026, 3, 27), date(2026, 3, 31))
    inner = shifts[1:-1]

    assert [s.end - s.start for s in inner] == [
        timedelta(hours=24),
        timedelta(hours=23),  # 28th 09:00 CET -> 29th 09:00 CEST
        timedelta(hours=24),
    ]
    assert all(s.start.astimezone(PARIS).time() == time(9) for s in inner)
    assert inner[1].start == utc(2026, 3, 28, 8)
    assert inner[1].end == utc(2026, 3, 29, 7)
    assert_tiles(shifts)


def test_paris_daily_0900_fall_back_shift_is_25_hours() -> None:
    schedule = schedule_in(PARIS, DailyRotation(time(9)), datetime(2026, 3, 1, 9, tzinfo=PARIS))

    shifts = shifts_around(schedule, PARIS, date(2026, 10, 23), date(2026, 10, 27))
    inner = shifts[1:-1]

    assert [s.end - s.start for s in inner] == [
        timedelta(hours=24),
        timedelta(hours=25),  # 24th 09:00 CEST -> 25th 09:00 CET
        timedelta(hours=24),
    ]
    assert all(s.start.astimezone(PARIS).time() == time(9) for s in inner)
    assert all(s.end.astimezone(PARIS).time() == time(9) for s in inner)
    assert_tiles(shifts)


def test_paris_oncall_at_reports_the_23_hour_shift() -> None:
    schedule = schedule_in(PARIS, DailyRotation(time(9)), datetime(2026, 3, 1, 9, tzinfo=PARIS))

    oncall = oncall_at(schedule, [], datetime(2026, 3, 29, 2, 30, tzinfo=UTC))

    assert oncall is not None
    assert (oncall.shift_start, oncall.shift_end) == (utc(2026, 3, 28, 8), utc(2026, 3, 29, 7))


def test_new_york_weekly_shifts_spanning_dst_are_167_and_169_hours() -> None:
    schedule = schedule_in(
        NEW_YORK,
        WeeklyRotation(time(9), Weekday.MONDAY),
        datetime(2026, 1, 5, 9, tzinfo=NEW_YORK),
    )

    spring = oncall_at(schedule, [], datetime(2026, 3, 8, 12, tzinfo=NEW_YORK))
    autumn = oncall_at(schedule, [], datetime(2026, 11, 1, 12, tzinfo=NEW_YORK))

    assert spring is not None
    assert autumn is not None
    assert spring.shift_end - spring.shift_start == timedelta(hours=167)
    assert autumn.shift_end - autumn.shift_start == timedelta(hours=169)
    for instant in (spring.shift_start, spring.shift_end, autumn.shift_start, autumn.shift_end):
        local = instant.astimezone(NEW_YORK)
        assert (local.weekday(), local.time()) == (Weekday.MONDAY, time(9))


def test_new_york_ambiguous_handoff_happens_at_the_first_occurrence() -> None:
    # 01:30 happens twice on 2026-11-01: first in EDT (05:30Z), then in EST (06:30Z).
    schedule = schedule_in(
        NEW_YORK,
        WeeklyRotation(time(1, 30), Weekday.SUNDAY),
        datetime(2026, 10, 1, tzinfo=NEW_YORK),
    )

    before = oncall_at(schedule, [], utc(2026, 11, 1, 5, 29))
    after = oncall_at(schedule, [], utc(2026, 11, 1, 5, 30))

    assert before is not None
    assert after is not None
    assert before.shift_end == after.shift_start == utc(2026, 11, 1, 5, 30)
    assert after.shift_start.astimezone(NEW_YORK).fold == 0
    assert after.shift_end == utc(2026, 11, 8, 6, 30)  # 01:30 EST the next Sunday


def test_lord_howe_half_hour_dst_gives_23_5_and_24_5_hour_shifts() -> None:
    schedule = schedule_in(
        LORD_HOWE, DailyRotation(time(9)), datetime(2026, 1, 1, 9, tzinfo=LORD_HOWE)
    )

    autumn = oncall_at(schedule, [], datetime(2026, 4, 5, 1, 45, tzinfo=LORD_HOWE))
    spring = oncall_at(schedule, [], datetime(2026, 10, 4, 3, 0, tzinfo=LORD_HOWE))

    assert autumn is not None
    assert spring is not None
    assert autumn.shift_end - autumn.shift_start == timedelta(hours=24, minutes=30)
    assert spring.shift_end - spring.shift_start == timedelta(hours=23, minutes=30)
    for instant in (autumn.shift_start, autumn.shift_end, spring.shift_start, spring.shift_end):
        assert instant.astimezone(LORD_HOWE).time() == time(9)


def test_lord_howe_handoff_in_the_gap_moves_to_the_end_of_the_gap() -> None:
    # On 2026-10-04 Lord Howe jumps from 02:00 (+10:30) to 02:30 (+11:00).
    schedule = schedule_in(
        LORD_HOWE, DailyRotation(time(2, 15)), datetime(2026, 9, 1, 2, 15, tzinfo=LORD_HOWE)
    )

    shifts = shifts_around(schedule, LORD_HOWE, date(2026, 10, 3), date(2026, 10, 6))

    local_starts = [s.start.astimezone(LORD_HOWE).replace(tzinfo=None) for s in shifts[1:]]
    assert local_starts == [
        datetime(2026, 10, 3, 2, 15),
        datetime(2026, 10, 4, 2, 30),  # 02:15 does not exist that day
        datetime(2026, 10, 5, 2, 15),
    ]
    assert shifts[2].start == utc(2026, 10, 3, 15, 30)  # the instant the gap ends
    assert [s.end - s.start for s in shifts[1:3]] == [
        timedelta(hours=23, minutes=45),  # 3rd 02:15 (+10:30) -> 4th 02:30 (+11)
        timedelta(hours=23, minutes=45),  # 4th 02:30 (+11) -> 5th 02:15 (+11)
    ]
    assert_tiles(shifts)


def test_paris_handoff_in_the_gap_happens_when_the_clock_reaches_0300() -> None:
    schedule = schedule_in(
        PARIS, DailyRotation(time(2, 30)), datetime(2026, 3, 1, 2, 30, tzinfo=PARIS)
    )

    oncall = oncall_at(schedule, [], utc(2026, 3, 29, 0, 59))

    assert oncall is not None
    assert oncall.shift_end == utc(2026, 3, 29, 1, 0)  # 03:00 CEST
    assert oncall.shift_end - oncall.shift_start == timedelta(hours=23, minutes=30)
    following = oncall_at(schedule, [], oncall.shift_end)
    assert following is not None
    assert following.shift_start == oncall.shift_end
    assert following.shift_end.astimezone(PARIS).time() == time(2, 30)


def test_wall_clock_resolution_rules() -> None:
    # ordinary, ambiguous (first occurrence), nonexistent (end of the gap)
    assert wall_clock_to_utc(date(2026, 7, 1), time(9), PARIS) == utc(2026, 7, 1, 7)
    assert wall_clock_to_utc(date(2026, 10, 25), time(2, 30), PARIS) == utc(2026, 10, 25, 0, 30)
    assert wall_clock_to_utc(date(2026, 3, 29), time(2, 0), PARIS) == utc(2026, 3, 29, 1)
    assert wall_clock_to_utc(date(2026, 3, 29), time(2, 59), PARIS) == utc(2026, 3, 29, 1)
    assert wall_clock_to_utc(date(2026, 3, 29), time(3, 0), PARIS) == utc(2026, 3, 29, 1)
    assert wall_clock_to_utc(date(2026, 3, 29), time(1, 59), PARIS) == utc(2026, 3, 29, 0, 59)


def test_samoa_skipped_day_swallows_one_turn_without_an_empty_shift() -> None:
    # Samoa skipped Friday 2011-12-30 entirely; a midnight hand-off that day is the
    # same instant as Saturday's, so that day's user misses their turn.
    schedule = schedule_in(
        APIA, DailyRotation(time(0)), datetime(2011, 12, 27, tzinfo=APIA), "a", "b", "c"
    )

    shifts = render_shifts(schedule, [], utc(2011, 12, 28, 12), utc(2012, 1, 2))

    assert all(s.end > s.start for s in shifts)
    assert_tiles(shifts)
    by_start = {s.start.astimezone(APIA).date(): s.user for s in shifts[1:]}
    assert by_start[date(2011, 12, 29)] == "c"  # 27th a, 28th b, 29th c
    assert date(2011, 12, 30) not in by_start
    assert by_start[date(2011, 12, 31)] == "b"  # the 30th (a) was swallowed


def test_restriction_window_on_the_spring_forward_day_keeps_its_wall_clock_edges() -> None:
    layer = Layer(
        "business",
        ("a",),
        datetime(2026, 3, 1, tzinfo=PARIS),
        DailyRotation(time(0)),
        (Restriction(ALL_DAYS, time(9), time(18)), Restriction(ALL_DAYS, time(22), time(6))),
    )
    schedule = Schedule("dst", "Europe/Paris", (layer,))

    shifts = layer_shifts(
        schedule, 0, datetime(2026, 3, 29, tzinfo=PARIS), datetime(2026, 3, 30, tzinfo=PARIS)
    )

    local = [(s.start.astimezone(PARIS).time(), s.end.astimezone(PARIS).time()) for s in shifts]
    assert local == [(time(0), time(6)), (time(9), time(18)), (time(22), time(0))]
    assert shifts[0].end - shifts[0].start == timedelta(hours=5)  # 00:00-06:00 lost an hour
    assert shifts[1].end - shifts[1].start == timedelta(hours=9)


def test_restriction_window_inside_the_gap_covers_nothing() -> None:
    sunday = frozenset({Weekday.SUNDAY})
    layer = Layer(
        "gap",
        ("a",),
        datetime(2026, 3, 1, tzinfo=PARIS),
        DailyRotation(time(12)),
        (Restriction(sunday, time(2, 0), time(2, 45)),),
    )
    schedule = Schedule("dst", "Europe/Paris", (layer,))

    shifts = layer_shifts(
        schedule, 0, datetime(2026, 3, 22, tzinfo=PARIS), datetime(2026, 4, 6, tzinfo=PARIS)
    )

    assert [s.start.astimezone(PARIS).date() for s in shifts] == [
        date(2026, 3, 22),
        date(2026, 4, 5),
    ]
