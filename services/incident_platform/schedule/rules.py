"""Who is on call: layers stacked bottom to top, overrides on top of everything.

Precedence, highest first:

1. overrides - the newest (highest ``sequence``) where several overlap;
2. layers - a later layer wins wherever it has someone; outside its restriction
   windows, or before its start, a layer has nobody and the one below shows through.

A rendered shift is one piece of the winning source that nothing above interrupts:
a rotation shift's covered part (or one override) minus what beats it. Adjacent shifts
are NOT merged, even for the same user and layer: every shift edge is then a real
event (a hand-off, a window edge, an override edge, a higher layer taking over), and
the shift containing an instant stays bounded, so :func:`oncall_at` never has to walk
an unbounded run of one single-user layer's shifts to find where it ends.

:func:`oncall_at` renders just the piece of the winning source around the instant, with
the same code as :func:`render_shifts`; that is what guarantees the two always agree.

The values here are plain frozen data. Instants are aware datetimes (any zone on the way
in, always UTC on the way out). Wall-clock values - hand-off times and restriction
windows - are naive ``time``s read in the schedule's zone; :mod:`.wallclock` decides what
they mean around DST.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from incident_platform.schedule.restrictions import Restriction, covered_intervals, is_covered
from incident_platform.schedule.rotation import Rotation, rotation_shift_at, rotation_shifts
from incident_platform.schedule.wallclock import to_utc

OVERRIDE_LAYER = "override"
"""The layer reported for time taken over by an override (no layer may use this name)."""


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    users: tuple[str, ...]
    start: datetime
    rotation: Rotation
    restrictions: tuple[Restriction, ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    """Layers are listed bottom first: a later layer wins where it has someone."""

    name: str
    timezone: str
    layers: tuple[Layer, ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances by key


@dataclass(frozen=True, slots=True)
class Override:
    """``user`` takes over the whole schedule for ``[start, end)``.

    Where overrides overlap, the highest ``sequence`` (the newest) wins; equal
    sequences fall back to the order of the list handed to the renderer.
    """

    user: str
    start: datetime
    end: datetime
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class Shift:
    """A stretch of the final schedule: ``user`` is on call via ``layer`` for [start, end)."""

    user: str
    layer: str
    start: datetime
    end: datetime

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who is on call at an instant, and the rendered shift that instant falls in."""

    user: str
    layer: str
    shift_start: datetime
    shift_end: datetime


_FIRST_REACH = timedelta(hours=48)

OVERRIDE_REACH = timedelta(days=400)
"""Override reach rule: an override further than this from an instant cannot change who
is on call then (no override may last longer), so lookups load only this window."""


def render_shifts(
    schedule: Schedule, overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Shift]:
    """The final schedule over [start, end): sorted, non-overlapping, clipped to the range.

    Times nobody covers are simply absent. Results are in UTC.
    """
    range_start, range_end = _range(start, end)
    ranked = _by_precedence(overrides)
    return _render(schedule.zone, schedule.layers, ranked, range_start, range_end)


def layer_shifts(
    schedule: Schedule, layer_index: int, start: datetime, end: datetime
) -> list[Shift]:
    """One layer on its own over [start, end): it tiles the layer's covered time exactly."""
    range_start, range_end = _range(start, end)
    return _layer_pieces(schedule.layers[layer_index], schedule.zone, range_start, range_end)


def oncall_at(schedule: Schedule, overrides: Sequence[Override], at: datetime) -> OnCall | None:
    """Who is on call at ``at``, with the rendered shift containing it; None if nobody."""
    instant = to_utc(at, "at")
    winner = _winning_piece(schedule, overrides, instant)
    if winner is None:
        return None
    extent_start, extent_end, lowest_relevant_layer = winner
    # Layers below the winner cannot shorten its shift, so they are left out.
    layers = schedule.layers[lowest_relevant_layer:]
    # The shift containing ``instant`` lies inside the winner's piece (its extent).
    # Render a neighbourhood first and widen it only while the shift found touches a
    # neighbourhood edge that is not an extent edge (it may continue past it).
    reach = _FIRST_REACH
    while True:
        start, end = max(extent_start, instant - reach), min(extent_end, instant + reach)
        nearby = _by_precedence([o for o in overrides if o.start < end and o.end > start])
        for shift in _render(schedule.zone, layers, nearby, start, end):
            if shift.covers(instant):
                clipped = (shift.start == start != extent_start) or (shift.end == end != extent_end)
                if not clipped:
                    return OnCall(shift.user, shift.layer, shift.start, shift.end)
                break
        else:
            raise RuntimeError(f"schedule {schedule.name!r}: no shift at {instant.isoformat()}")
        reach *= 4


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    range_start, range_end = to_utc(start, "start"), to_utc(end, "end")
    if range_end <= range_start:
        raise ValueError("end: must be after start")
    return range_start, range_end


def _winning_piece(
    schedule: Schedule, overrides: Sequence[Override], at: datetime
) -> tuple[datetime, datetime, int] | None:
    """The extent of the override or rotation shift that wins at ``at``, and the index
    of the lowest layer that can affect its final shift (past the end for an override)."""
    covering = [override for override in overrides if override.start <= at < override.end]
    if covering:
        newest = _by_precedence(covering)[-1]
        return newest.start, newest.end, len(schedule.layers)
    zone = schedule.zone
    for index in reversed(range(len(schedule.layers))):
        layer = schedule.layers[index]
        shift = rotation_shift_at(layer, zone, at)
        if shift is None:
            continue
        if not layer.restrictions or is_covered(layer.restrictions, zone, at):
            return shift.start, shift.end, index
    return None


def _render(
    zone: ZoneInfo,
    layers: Sequence[Layer],
    ranked_overrides: list[Override],
    start: datetime,
    end: datetime,
) -> list[Shift]:
    timeline: list[Shift] = []
    for layer in layers:
        timeline = _overlay(timeline, _layer_pieces(layer, zone, start, end))
    # Settling the overrides among themselves first keeps the cost linear in the layers.
    on_top: list[Shift] = []
    for override in ranked_overrides:
        override_start, override_end = max(override.start, start), min(override.end, end)
        if override_start < override_end:
            piece = Shift(override.user, OVERRIDE_LAYER, override_start, override_end)
            on_top = _overlay(on_top, [piece])
    return _overlay(timeline, on_top)


def _layer_pieces(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """The layer's rotation shifts cut down to its covered time, within [start, end)."""
    shifts = rotation_shifts(layer, zone, start, end)
    if not shifts:
        return []
    covered = covered_intervals(layer.restrictions, zone, shifts[0].start, shifts[-1].end)
    pieces: list[Shift] = []
    window = 0
    for shift in shifts:
        while window < len(covered) and covered[window][1] <= shift.start:
            window += 1
        index = window
        while index < len(covered) and covered[index][0] < shift.end:
            piece_start = max(shift.start, covered[index][0])
            piece_end = min(shift.end, covered[index][1])
            pieces.append(Shift(shift.user, layer.name, piece_start, piece_end))
            index += 1
    return pieces


def _overlay(below: list[Shift], above: list[Shift]) -> list[Shift]:
    """``above`` wins wherever it has a shift; both are sorted and non-overlapping."""
    if not above:
        return below
    if not below:
        return above
    visible: list[Shift] = []
    cover = 0
    for shift in below:
        while cover < len(above) and above[cover].end <= shift.start:
            cover += 1
        cursor, index = shift.start, cover
        while cursor < shift.end:
            if index < len(above) and above[index].start < shift.end:
                if above[index].start > cursor:
                    visible.append(Shift(shift.user, shift.layer, cursor, above[index].start))
                cursor = above[index].end
                index += 1
            else:
                visible.append(Shift(shift.user, shift.layer, cursor, shift.end))
                break
    visible.extend(above)
    visible.sort(key=lambda shift: shift.start)
    return visible


def _by_precedence(overrides: Sequence[Override]) -> list[Override]:
    """In UTC, oldest first so that later entries win; list order breaks ``sequence`` ties."""
    ordered = sorted(enumerate(overrides), key=lambda item: (item[1].sequence, item[0]))
    return [
        Override(override.user, _in_utc(override.start), _in_utc(override.end), override.sequence)
        for _, override in ordered
    ]


def _in_utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)
