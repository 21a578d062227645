"""Property tests: random zones, rotations, windows, layers, overrides and instants.

The oracles here read wall clocks directly (``astimezone``) instead of going through
the implementation's wall-clock placement; they agree with it wherever the local time
is unambiguous, so instants inside a fall-back repeat are left to the structural checks.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_platform.schedule import (
    OVERRIDE_LAYER,
    CustomRotation,
    DailyRotation,
    Layer,
    Override,
    Restriction,
    Rotation,
    Schedule,
    Shift,
    Weekday,
    WeeklyRotation,
    layer_shifts,
    oncall_at,
    render_shifts,
)

ZONES = sorted(available_timezones() - {"localtime"})  # the host's own zone varies
# Zones with odd transitions: 30-minute and 2-hour DST, midnight changes, skipped days.
TRICKY_ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Pacific/Kwajalein",
    "America/Santiago",
    "America/Havana",
    "Asia/Tehran",
    "Africa/Casablanca",
    "Antarctica/Troll",
    "Pacific/Chatham",
    "Asia/Gaza",
]
TRICKY_TIMES = [time(0), time(0, 30), time(1), time(1, 30), time(2), time(2, 15), time(2, 30)]
TRICKY_TIMES += [time(3), time(23), time(23, 30), time(9)]
TICK = timedelta(microseconds=1)

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Scenario:
    schedule: Schedule
    overrides: tuple[Override, ...]
    start: datetime  # UTC, for the test's own arithmetic
    end: datetime
    local_range: bool  # hand the range to the rules in the schedule's zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.schedule.timezone)

    @property
    def range(self) -> tuple[datetime, datetime]:
        if self.local_range:
            return self.start.astimezone(self.zone), self.end.astimezone(self.zone)
        return self.start, self.end

    def instants(self, fractions: list[int]) -> Iterator[datetime]:
        span = self.end - self.start
        for fraction in fractions:
            yield self.start + span * fraction // 1000


clock_times = st.one_of(
    st.sampled_from(TRICKY_TIMES), st.builds(time, st.integers(0, 23), st.integers(0, 59))
)
rotations: st.SearchStrategy[Rotation] = st.one_of(
    st.builds(DailyRotation, clock_times),
    st.builds(WeeklyRotation, clock_times, st.sampled_from(Weekday)),
    st.builds(
        CustomRotation,
        st.one_of(
            st.sampled_from([1.0, 7.25, 8.0, 12.0, 24.0, 36.0, 100.0, 168.0]),
            st.floats(1, 200),
        ),
    ),
)
restrictions = st.builds(
    Restriction, st.frozensets(st.sampled_from(Weekday), min_size=1), clock_times, clock_times
)
minutes = st.integers


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone = draw(st.one_of(st.sampled_from(TRICKY_ZONES), st.sampled_from(ZONES)))
    # Inputs may come in any zone; the rules must only care about the instant.
    input_zone = st.sampled_from([UTC, ZoneInfo(zone)])
    month = draw(st.one_of(st.sampled_from([3, 4, 9, 10, 11]), st.integers(1, 12)))
    start = datetime(draw(st.integers(1975, 2036)), month, draw(st.integers(1, 28)), tzinfo=UTC)
    start += timedelta(minutes=draw(minutes(0, 24 * 60 - 1)))
    end = start + timedelta(minutes=draw(minutes(60, 12 * 24 * 60)))
    layers = []
    for index in range(draw(st.integers(1, 3))):
        offset = draw(
            st.one_of(minutes(-40 * 24 * 60, 10 * 24 * 60), minutes(-10 * 365 * 24 * 60, 0))
        )
        layers.append(
            Layer(
                name=f"L{index}",
                users=tuple(f"L{index}-u{user}" for user in range(draw(st.integers(1, 4)))),
                start=(start + timedelta(minutes=offset)).astimezone(draw(input_zone)),
                rotation=draw(rotations),
                restrictions=tuple(draw(st.lists(restrictions, max_size=2))),
            )
        )
    count = draw(st.integers(0, 4))
    sequences = draw(st.permutations(range(count)))
    overrides = []
    for number in range(count):
        override_start = start + timedelta(minutes=draw(minutes(-24 * 60, 12 * 24 * 60)))
        length = timedelta(minutes=draw(minutes(1, 3 * 24 * 60)))
        in_zone = draw(input_zone)
        overrides.append(
            Override(
                f"o{number}",
                override_start.astimezone(in_zone),
                (override_start + length).astimezone(in_zone),
                sequences[number],
            )
        )
    schedule = Schedule("property", zone, tuple(layers))
    return Scenario(schedule, tuple(overrides), start, end, draw(st.booleans()))


fractions = st.lists(st.integers(0, 999), min_size=1, max_size=25)


# --- oracles ------------------------------------------------------------------


def reading(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def unambiguous(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    return local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset()


def window_covers(windows: tuple[Restriction, ...], zone: ZoneInfo, instant: datetime) -> bool:
    local = reading(instant, zone)
    for window in windows:
        for day in (local.date() - timedelta(days=1), local.date()):
            if day.weekday() not in window.days:
                continue
            closing_day = day + timedelta(days=1) if window.end <= window.start else day
            opens = datetime.combine(day, window.start)
            if opens <= local < datetime.combine(closing_day, window.end):
                return True
    return False


def handoffs_between(after: datetime, upto: datetime, rotation: Rotation) -> int:
    """Local hand-off times X with after < X <= upto (both naive local readings)."""
    assert not isinstance(rotation, CustomRotation)
    handoff = rotation.handoff_time
    first = after.date() if after.time() < handoff else after.date() + timedelta(days=1)
    last = upto.date() if upto.time() >= handoff else upto.date() - timedelta(days=1)
    period = 1
    if isinstance(rotation, WeeklyRotation):
        period = 7
        first += timedelta(days=(rotation.handoff_day - first.weekday()) % 7)
        last -= timedelta(days=(last.weekday() - rotation.handoff_day) % 7)
    return 0 if last < first else (last - first).days // period + 1


def expected_user(layer: Layer, zone: ZoneInfo, instant: datetime) -> str | None:
    """Who ``layer`` has at ``instant`` per the wall clock; None if nobody."""
    if instant < layer.start:
        return None
    if layer.restrictions and not window_covers(layer.restrictions, zone, instant):
        return None
    if isinstance(layer.rotation, CustomRotation):
        index = (instant - layer.start) // layer.rotation.shift_length
    else:
        index = handoffs_between(reading(layer.start, zone), reading(instant, zone), layer.rotation)
    return layer.users[index % len(layer.users)]


def expected_winner(scenario: Scenario, instant: datetime) -> tuple[str, str] | None:
    covering = [o for o in scenario.overrides if o.start <= instant < o.end]
    if covering:
        return max(covering, key=lambda o: o.sequence).user, OVERRIDE_LAYER
    for layer in reversed(scenario.schedule.layers):
        user = expected_user(layer, scenario.zone, instant)
        if user is not None:
            return user, layer.name
    return None


def containing(shifts: list[Shift], instant: datetime) -> Shift | None:
    found = [shift for shift in shifts if shift.covers(instant)]
    assert len(found) <= 1
    return found[0] if found else None


def assert_sorted_and_disjoint(shifts: list[Shift], start: datetime, end: datetime) -> None:
    for shift in shifts:
        assert start <= shift.start < shift.end <= end
        assert shift.start.tzinfo is UTC
    for before, after in pairwise(shifts):
        assert before.end <= after.start


def oracle_instants(
    scenario: Scenario, shifts: list[Shift], picks: list[int]
) -> Iterator[datetime]:
    yield from scenario.instants(picks)
    for shift in shifts:
        yield shift.start
        yield shift.end - TICK


# --- properties -----------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios(), fractions)
def test_each_layer_tiles_exactly_the_time_it_covers(scenario: Scenario, picks: list[int]) -> None:
    zone = scenario.zone
    for index, layer in enumerate(scenario.schedule.layers):
        shifts = layer_shifts(scenario.schedule, index, *scenario.range)
        assert_sorted_and_disjoint(shifts, scenario.start, scenario.end)
        if not layer.restrictions:
            # No restriction: one unbroken run from the layer's start to the range's end.
            first = max(scenario.start, layer.start)
            if first < scenario.end:
                assert shifts[0].start == first
                assert shifts[-1].end == scenario.end
                assert all(a.end == b.start for a, b in pairwise(shifts))
            else:
                assert shifts == []
        for instant in oracle_instants(scenario, shifts, picks):
            if not unambiguous(instant, zone) or not unambiguous(layer.start, zone):
                continue
            shift = containing(shifts, instant)
            assert (shift and shift.user) == expected_user(layer, zone, instant), instant


@PROPERTY_SETTINGS
@given(scenarios(), fractions)
def test_final_schedule_follows_layer_and_override_precedence(
    scenario: Scenario, picks: list[int]
) -> None:
    shifts = render_shifts(scenario.schedule, scenario.overrides, *scenario.range)
    assert_sorted_and_disjoint(shifts, scenario.start, scenario.end)
    zone = scenario.zone
    starts_unambiguous = all(unambiguous(layer.start, zone) for layer in scenario.schedule.layers)
    for instant in oracle_instants(scenario, shifts, picks):
        if not (starts_unambiguous and unambiguous(instant, zone)):
            continue
        shift = containing(shifts, instant)
        assert (shift and (shift.user, shift.layer)) == expected_winner(scenario, instant), instant


@PROPERTY_SETTINGS
@given(scenarios(), fractions)
def test_oncall_at_is_the_rendered_shift_at_every_boundary_and_instant(
    scenario: Scenario, picks: list[int]
) -> None:
    schedule, overrides = scenario.schedule, scenario.overrides
    shifts = render_shifts(schedule, overrides, *scenario.range)
    instants = list(scenario.instants(picks))
    for rendered in shifts:
        instants += [rendered.start, rendered.end - TICK, rendered.end]
    for instant in instants:
        if not scenario.start <= instant < scenario.end:
            continue
        shift = containing(shifts, instant)
        oncall = oncall_at(schedule, overrides, instant.astimezone(scenario.zone))
        if shift is None:
            assert oncall is None, instant
            continue
        assert oncall is not None, instant
        assert (oncall.user, oncall.layer) == (shift.user, shift.layer)
        # Equal to the rendered shift, except where the render range clipped it.
        assert oncall.shift_start <= instant < oncall.shift_end
        assert max(oncall.shift_start, scenario.start) == shift.start
        assert min(oncall.shift_end, scenario.end) == shift.end


@PROPERTY_SETTINGS
@given(scenarios())
def test_handoffs_fall_at_the_handoff_wall_clock_time(scenario: Scenario) -> None:
    zone = scenario.zone
    for index, layer in enumerate(scenario.schedule.layers):
        rotation = layer.rotation
        if layer.restrictions:
            continue
        shifts = layer_shifts(scenario.schedule, index, *scenario.range)
        boundaries = [s.start for s in shifts if s.start not in (scenario.start, layer.start)]
        for boundary in boundaries:
            if isinstance(rotation, CustomRotation):
                assert (boundary - layer.start) % rotation.shift_length == timedelta(0)
                continue
            assert_is_a_handoff(boundary, rotation, zone)


def assert_is_a_handoff(
    boundary: datetime, rotation: DailyRotation | WeeklyRotation, zone: ZoneInfo
) -> None:
    local = boundary.astimezone(zone)
    on_handoff_day = not isinstance(rotation, WeeklyRotation) or (
        local.weekday() == rotation.handoff_day
    )
    if local.time() == rotation.handoff_time and on_handoff_day:
        assert local.fold == 0, "an ambiguous hand-off happens at its first occurrence"
        return
    # Otherwise the hand-off time did not exist that day: the boundary is the instant
    # a forward clock jump skipped over it.
    before, after = reading(boundary - TICK, zone), reading(boundary, zone)
    assert after - before > TICK, f"{local} is neither the hand-off time nor a clock jump"
    skipped = [
        datetime.combine(day, rotation.handoff_time)
        for day in dates(before.date(), after.date())
        if not isinstance(rotation, WeeklyRotation) or day.weekday() == rotation.handoff_day
    ]
    assert any(before < handoff <= after for handoff in skipped), local


def dates(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
