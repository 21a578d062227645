"""Restriction windows on their own: the covered parts of a range (merged, sorted, clipped),
windows past midnight and over whole days, DST gaps, and point lookups that agree."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from incident_platform.schedule import Restriction, Weekday
from incident_platform.schedule.restrictions import covered_intervals, is_covered

PARIS = ZoneInfo("Europe/Paris")
ALL_DAYS = frozenset(Weekday)


def paris(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def test_no_restriction_covers_the_whole_range_and_an_empty_range_nothing() -> None:
    start, end = paris(2), paris(3)

    assert covered_intervals((), PARIS, start, end) == [(start, end)]
    assert covered_intervals((), PARIS, end, start) == []
    assert covered_intervals((), PARIS, start, start) == []


def test_a_window_past_midnight_runs_into_the_next_day_and_is_clipped_to_the_range() -> None:
    nights = (Restriction(frozenset({Weekday.MONDAY}), time(22), time(6)),)  # 2 March: Monday

    covered = covered_intervals(nights, PARIS, paris(2, 23), paris(4))

    assert covered == [(paris(2, 23), paris(3, 6))]


def test_start_equal_to_end_is_a_full_day() -> None:
    whole_day = (Restriction(frozenset({Weekday.TUESDAY}), time(9), time(9)),)

    assert covered_intervals(whole_day, PARIS, paris(1), paris(8)) == [(paris(3, 9), paris(4, 9))]


def test_touching_and_overlapping_windows_merge_and_come_out_sorted() -> None:
    windows = (
        Restriction(frozenset({Weekday.MONDAY}), time(12), time(18)),
        Restriction(frozenset({Weekday.MONDAY}), time(9), time(12)),  # touches
        Restriction(frozenset({Weekday.MONDAY}), time(17), time(20)),  # overlaps
        Restriction(frozenset({Weekday.WEDNESDAY}), time(8), time(9)),
    )

    assert covered_intervals(windows, PARIS, paris(1), paris(8)) == [
        (paris(2, 9), paris(2, 20)),
        (paris(4, 8), paris(4, 9)),
    ]


def test_a_sunday_night_window_reaching_into_the_range_from_before_it_counts() -> None:
    sunday_nights = (Restriction(frozenset({Weekday.SUNDAY}), time(20), time(8)),)  # 1 March

    assert covered_intervals(sunday_nights, PARIS, paris(2, 0), paris(2, 12)) == [
        (paris(2, 0), paris(2, 8))
    ]


def test_a_window_wholly_inside_the_spring_forward_gap_covers_nothing() -> None:
    # 29 March 2026, a Sunday: Paris clocks jump from 02:00 to 03:00.
    in_the_gap = (Restriction(frozenset({Weekday.SUNDAY}), time(2, 15), time(2, 45)),)

    assert covered_intervals(in_the_gap, PARIS, paris(29), paris(30)) == []


def test_a_window_across_the_gap_is_an_hour_shorter_in_real_time() -> None:
    night = (Restriction(frozenset({Weekday.SUNDAY}), time(1), time(4)),)

    ((start, end),) = covered_intervals(night, PARIS, paris(29), paris(30))

    assert end - start == timedelta(hours=2)
    assert (start.astimezone(UTC).hour, end.astimezone(UTC).hour) == (0, 2)


def test_point_lookups_agree_with_the_intervals_at_their_edges() -> None:
    mornings = (Restriction(ALL_DAYS, time(9), time(12)),)

    assert not is_covered(mornings, PARIS, paris(2, 8, 59))
    assert is_covered(mornings, PARIS, paris(2, 9))
    assert is_covered(mornings, PARIS, paris(2, 11, 59))
    assert not is_covered(mornings, PARIS, paris(2, 12)), "a window's end is not in it"
