"""Layers, restriction windows and overrides: who wins where, and what oncall_at reports."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from incident_platform.schedule import (
    OVERRIDE_LAYER,
    CustomRotation,
    DailyRotation,
    Layer,
    OnCall,
    Override,
    Restriction,
    Schedule,
    Shift,
    Weekday,
    WeeklyRotation,
    layer_shifts,
    oncall_at,
    render_shifts,
)

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = frozenset(
    {Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY}
)
LONG_AGO = datetime(2025, 1, 6, 9, tzinfo=PARIS)  # a Monday


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def always(name: str, *users: str) -> Layer:
    return Layer(name, users, LONG_AGO, WeeklyRotation(time(9), Weekday.MONDAY))


def restricted(name: str, *windows: Restriction, users: tuple[str, ...] = ("day",)) -> Layer:
    return Layer(name, users, LONG_AGO, DailyRotation(time(9)), windows)


def schedule(*layers: Layer) -> Schedule:
    return Schedule("team", "Europe/Paris", layers)


def summary(shifts: list[Shift]) -> list[tuple[str, str, datetime, datetime]]:
    return [(s.user, s.layer, s.start.astimezone(PARIS), s.end.astimezone(PARIS)) for s in shifts]


def oncall_user(sched: Schedule, overrides: list[Override], at: datetime) -> str | None:
    oncall = oncall_at(sched, overrides, at)
    return None if oncall is None else oncall.user


# 2026-01-12 is a Monday.


def test_upper_layer_wins_inside_its_window_and_lower_layer_shows_through_outside() -> None:
    sched = schedule(
        always("backstop", "night"),
        restricted("business", Restriction(WEEKDAYS, time(9), time(18))),
    )

    shifts = render_shifts(sched, [], paris(2026, 1, 12, 0), paris(2026, 1, 13, 0))

    assert summary(shifts) == [
        ("night", "backstop", paris(2026, 1, 12, 0), paris(2026, 1, 12, 9)),
        ("day", "business", paris(2026, 1, 12, 9), paris(2026, 1, 12, 18)),
        ("night", "backstop", paris(2026, 1, 12, 18), paris(2026, 1, 13, 0)),
    ]


def test_a_restricted_layer_alone_leaves_gaps_where_nobody_is_on_call() -> None:
    sched = schedule(restricted("business", Restriction(WEEKDAYS, time(9), time(18))))

    assert oncall_at(sched, [], paris(2026, 1, 12, 8, 59)) is None
    assert oncall_user(sched, [], paris(2026, 1, 12, 9)) == "day"
    assert oncall_at(sched, [], paris(2026, 1, 12, 18)) is None
    assert oncall_at(sched, [], paris(2026, 1, 17, 12)) is None  # Saturday


def test_over_midnight_window_runs_into_the_next_day() -> None:
    monday_nights = Restriction(frozenset({Weekday.MONDAY}), time(22), time(6))
    sched = schedule(restricted("nights", monday_nights))

    shifts = layer_shifts(sched, 0, paris(2026, 1, 12), paris(2026, 1, 19))

    # The 09:00 Tuesday hand-off is outside the window, so one piece, one user.
    assert summary(shifts) == [("day", "nights", paris(2026, 1, 12, 22), paris(2026, 1, 13, 6))]
    assert oncall_user(sched, [], paris(2026, 1, 13, 5, 59)) == "day"
    assert oncall_at(sched, [], paris(2026, 1, 13, 6)) is None
    assert oncall_at(sched, [], paris(2026, 1, 12, 21, 59)) is None


def test_sunday_night_window_wraps_into_monday_of_the_next_week() -> None:
    sunday_night = Restriction(frozenset({Weekday.SUNDAY}), time(20), time(2))
    sched = schedule(restricted("sunday", sunday_night))

    shifts = layer_shifts(sched, 0, paris(2026, 1, 18, 12), paris(2026, 1, 19, 12))

    assert [(s.start, s.end) for s in shifts] == [(paris(2026, 1, 18, 20), paris(2026, 1, 19, 2))]


def test_start_equal_to_end_is_a_full_day_window() -> None:
    full_tuesday = Restriction(frozenset({Weekday.TUESDAY}), time(0), time(0))
    sched = schedule(restricted("tuesdays", full_tuesday, users=("a", "b")))

    shifts = layer_shifts(sched, 0, paris(2026, 1, 12), paris(2026, 1, 15))

    # The 09:00 hand-off still splits the day between the users.
    assert summary(shifts) == [
        ("b", "tuesdays", paris(2026, 1, 13, 0), paris(2026, 1, 13, 9)),
        ("a", "tuesdays", paris(2026, 1, 13, 9), paris(2026, 1, 14, 0)),
    ]


def test_touching_and_overlapping_windows_make_one_covered_stretch() -> None:
    monday = frozenset({Weekday.MONDAY})
    sched = schedule(
        restricted(
            "split",
            Restriction(monday, time(10), time(18)),
            Restriction(monday, time(18), time(20)),
            Restriction(monday, time(19), time(23)),
        )
    )

    shifts = layer_shifts(sched, 0, paris(2026, 1, 12), paris(2026, 1, 13))

    assert [(s.start, s.end) for s in shifts] == [(paris(2026, 1, 12, 10), paris(2026, 1, 12, 23))]


def test_lower_layer_shows_through_before_the_upper_layer_starts() -> None:
    upper = Layer("new", ("n",), paris(2026, 1, 14, 12), DailyRotation(time(9)))
    sched = schedule(always("old", "o"), upper)

    assert oncall_user(sched, [], paris(2026, 1, 14, 11, 59)) == "o"
    oncall = oncall_at(sched, [], paris(2026, 1, 14, 12))
    assert oncall == OnCall("n", "new", paris(2026, 1, 14, 12), paris(2026, 1, 15, 9))
    below = oncall_at(sched, [], paris(2026, 1, 14, 11))
    assert below == OnCall("o", "old", paris(2026, 1, 12, 9), paris(2026, 1, 14, 12))


def test_later_layer_wins_over_earlier_when_both_have_someone() -> None:
    sched = schedule(always("first", "f"), always("second", "s"))

    assert oncall_user(sched, [], paris(2026, 1, 14)) == "s"


def test_override_takes_over_everything_including_uncovered_time() -> None:
    sched = schedule(restricted("business", Restriction(WEEKDAYS, time(9), time(18))))
    override = Override("olivia", paris(2026, 1, 12, 17), paris(2026, 1, 12, 20), sequence=1)

    shifts = render_shifts(sched, [override], paris(2026, 1, 12, 12), paris(2026, 1, 12, 23))

    assert summary(shifts) == [
        ("day", "business", paris(2026, 1, 12, 12), paris(2026, 1, 12, 17)),
        ("olivia", OVERRIDE_LAYER, paris(2026, 1, 12, 17), paris(2026, 1, 12, 20)),
    ]
    assert oncall_at(sched, [override], paris(2026, 1, 12, 20)) is None


def test_newest_override_wins_where_overrides_overlap() -> None:
    sched = schedule(always("base", "b"))
    older = Override("old", paris(2026, 1, 12, 10), paris(2026, 1, 12, 20), sequence=1)
    newer = Override("new", paris(2026, 1, 12, 12), paris(2026, 1, 12, 14), sequence=2)

    for overrides in ([older, newer], [newer, older]):
        shifts = render_shifts(sched, overrides, paris(2026, 1, 12, 9), paris(2026, 1, 12, 21))
        assert [(s.user, s.start.astimezone(PARIS).hour) for s in shifts] == [
            ("b", 9),
            ("old", 10),
            ("new", 12),
            ("old", 14),
            ("b", 20),
        ]
        assert oncall_at(sched, overrides, paris(2026, 1, 12, 15)) == OnCall(
            "old", OVERRIDE_LAYER, paris(2026, 1, 12, 14), paris(2026, 1, 12, 20)
        )


def test_equal_sequences_fall_back_to_list_order() -> None:
    sched = schedule(always("base", "b"))
    first = Override("first", paris(2026, 1, 12, 10), paris(2026, 1, 12, 12))
    second = Override("second", paris(2026, 1, 12, 10), paris(2026, 1, 12, 12))

    assert oncall_user(sched, [first, second], paris(2026, 1, 12, 11)) == "second"
    assert oncall_user(sched, [second, first], paris(2026, 1, 12, 11)) == "first"


def test_override_splits_the_shift_it_interrupts() -> None:
    sched = schedule(Layer("main", ("a", "b"), LONG_AGO, DailyRotation(time(9))))
    override = Override("o", paris(2026, 1, 12, 12), paris(2026, 1, 12, 13), sequence=7)

    before = oncall_at(sched, [override], paris(2026, 1, 12, 10))
    after = oncall_at(sched, [override], paris(2026, 1, 12, 14))

    assert before is not None
    assert after is not None
    assert (before.shift_start, before.shift_end) == (paris(2026, 1, 12, 9), paris(2026, 1, 12, 12))
    assert (after.shift_start, after.shift_end) == (paris(2026, 1, 12, 13), paris(2026, 1, 13, 9))
    assert before.user == after.user


def test_higher_layer_cuts_a_long_lower_shift_and_oncall_reports_the_cut_piece() -> None:
    sched = schedule(
        Layer("weekly", ("w",), LONG_AGO, WeeklyRotation(time(9), Weekday.MONDAY)),
        Layer(
            "lunch",
            ("l",),
            LONG_AGO,
            CustomRotation(24),
            (Restriction(frozenset({Weekday.WEDNESDAY}), time(12), time(14)),),
        ),
    )

    oncall = oncall_at(sched, [], paris(2026, 1, 14, 15))

    assert oncall == OnCall("w", "weekly", paris(2026, 1, 14, 14), paris(2026, 1, 19, 9))


def test_render_clips_shifts_to_the_requested_range() -> None:
    sched = schedule(Layer("main", ("a", "b"), LONG_AGO, DailyRotation(time(9))))

    shifts = render_shifts(sched, [], paris(2026, 1, 12, 12), paris(2026, 1, 12, 13))

    assert [(s.start, s.end) for s in shifts] == [(paris(2026, 1, 12, 12), paris(2026, 1, 12, 13))]


def test_oncall_at_matches_the_rendered_shift_at_every_hour_of_a_busy_week() -> None:
    sched = schedule(
        always("backstop", "x", "y"),
        Layer(
            "follow-the-sun",
            ("a", "b", "c"),
            LONG_AGO,
            CustomRotation(8),
            (Restriction(WEEKDAYS, time(7), time(19)),),
        ),
        Layer(
            "nights",
            ("n1", "n2"),
            paris(2026, 1, 13, 22),
            DailyRotation(time(22)),
            (Restriction(WEEKDAYS, time(23), time(5)),),
        ),
    )
    overrides = [
        Override("o1", paris(2026, 1, 14, 3), paris(2026, 1, 15, 4), sequence=1),
        Override("o2", paris(2026, 1, 14, 12), paris(2026, 1, 14, 13), sequence=2),
    ]
    start, end = paris(2026, 1, 10), paris(2026, 1, 20)
    shifts = render_shifts(sched, overrides, start, end)

    instant = start
    while instant < end:
        containing = [s for s in shifts if s.covers(instant)]
        oncall = oncall_at(sched, overrides, instant)
        if not containing:
            assert oncall is None
        else:
            (shift,) = containing
            assert oncall is not None
            assert (oncall.user, oncall.layer) == (shift.user, shift.layer)
            assert max(oncall.shift_start, start) == shift.start
            assert min(oncall.shift_end, end) == shift.end
        instant += timedelta(minutes=30)


def test_naive_instants_are_refused() -> None:
    sched = schedule(always("base", "b"))

    with pytest.raises(ValueError, match=r"^at: must include a UTC offset"):
        oncall_at(sched, [], datetime(2026, 1, 12, 9))
    with pytest.raises(ValueError, match=r"^start: must include a UTC offset"):
        render_shifts(sched, [], datetime(2026, 1, 12), paris(2026, 1, 13))
    with pytest.raises(ValueError, match=r"^end: must be after start"):
        render_shifts(sched, [], paris(2026, 1, 13), paris(2026, 1, 12))


def test_results_do_not_depend_on_the_zone_of_the_inputs() -> None:
    sched = schedule(Layer("main", ("a", "b"), LONG_AGO.astimezone(UTC), DailyRotation(time(9))))
    tokyo = ZoneInfo("Asia/Tokyo")
    override = Override("o", paris(2026, 1, 12, 12).astimezone(tokyo), paris(2026, 1, 12, 13))

    in_paris = render_shifts(sched, [override], paris(2026, 1, 12), paris(2026, 1, 14))
    in_tokyo = render_shifts(
        sched,
        [override],
        paris(2026, 1, 12).astimezone(tokyo),
        paris(2026, 1, 14).astimezone(tokyo),
    )

    assert in_paris == in_tokyo
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in in_paris)
    oncall = oncall_at(sched, [override], paris(2026, 1, 12, 12, 30).astimezone(tokyo))
    assert oncall == OnCall("o", OVERRIDE_LAYER, paris(2026, 1, 12, 12), paris(2026, 1, 12, 13))
    assert oncall.shift_start.tzinfo is UTC
    assert oncall.shift_end.tzinfo is UTC
