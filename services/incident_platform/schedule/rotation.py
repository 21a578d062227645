"""Who a layer's rotation puts on call when - ignoring restriction windows.

Users take turns in list order. Shift 0 starts at the layer's ``start`` and ends at
the first boundary strictly after it; every later shift runs boundary to boundary:

* daily / weekly: boundaries are the hand-off wall-clock times (see :mod:`.wallclock`),
  so they stay at e.g. 09:00 local on both sides of a DST change;
* custom: boundaries are ``start + k * shift_length`` in absolute time.

The shift containing an instant is found arithmetically (division for custom, date
arithmetic for daily/weekly) so a layer started years ago costs the same as a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeAlias
from zoneinfo import ZoneInfo

from incident_platform.schedule.wallclock import Weekday, local_date, wall_clock_to_utc

# Custom shift bounds: anything outside is almost surely a typo, and a year of
# one-minute shifts is already half a million calendar events.
MIN_SHIFT_HOURS = 1 / 60
MAX_SHIFT_HOURS = 24 * 365


@dataclass(frozen=True, slots=True)
class DailyRotation:
    handoff_time: time


@dataclass(frozen=True, slots=True)
class WeeklyRotation:
    handoff_time: time
    handoff_day: Weekday


@dataclass(frozen=True, slots=True)
class CustomRotation:
    """Fixed-length shifts in absolute time: a 12 h shift is 12 h even across DST."""

    shift_hours: float

    @property
    def shift_length(self) -> timedelta:
        return timedelta(hours=self.shift_hours)


Rotation: TypeAlias = DailyRotation | WeeklyRotation | CustomRotation


class RotatingLayer(Protocol):
    """What a rotation reads of a layer (:class:`.rules.Layer` is one)."""

    @property
    def users(self) -> tuple[str, ...]: ...
    @property
    def start(self) -> datetime: ...
    @property
    def rotation(self) -> Rotation: ...


@dataclass(frozen=True, slots=True)
class RotationShift:
    """Shift number ``index`` of a layer; ``user`` is ``users[index % len(users)]``."""

    index: int
    user: str
    start: datetime
    end: datetime


def rotation_shift_at(layer: RotatingLayer, zone: ZoneInfo, at: datetime) -> RotationShift | None:
    """The rotation shift containing ``at`` (UTC), or None before the layer starts."""
    boundaries = _boundaries(layer, zone)
    if at < boundaries.start:
        return None
    return _shift(layer, boundaries, boundaries.index_at(at))


def rotation_shifts(
    layer: RotatingLayer, zone: ZoneInfo, start: datetime, end: datetime
) -> list[RotationShift]:
    """The rotation shifts overlapping [start, end) (UTC), clipped to it, in order."""
    boundaries = _boundaries(layer, zone)
    cursor = max(start, boundaries.start)
    shifts: list[RotationShift] = []
    if cursor >= end:
        return shifts
    index = boundaries.index_at(cursor)
    shift_start = boundaries.boundary(index)
    while shift_start < end:
        shift_end = boundaries.boundary(index + 1)
        # A hand-off that a whole-day clock jump swallowed (Samoa skipped 2011-12-30)
        # leaves an empty shift: its user simply misses that turn.
        if shift_end > shift_start:
            user = layer.users[index % len(layer.users)]
            shifts.append(RotationShift(index, user, max(shift_start, start), min(shift_end, end)))
        index += 1
        shift_start = shift_end
    return shifts


def _shift(layer: RotatingLayer, boundaries: _Boundaries, index: int) -> RotationShift:
    return RotationShift(
        index,
        layer.users[index % len(layer.users)],
        boundaries.boundary(index),
        boundaries.boundary(index + 1),
    )


class _Boundaries(Protocol):
    """Boundary k of a layer (boundary 0 is its start) and the inverse lookup."""

    start: datetime

    def boundary(self, index: int) -> datetime: ...

    def index_at(self, at: datetime) -> int:
        """The largest k with ``boundary(k) <= at``; ``at`` is not before the start."""
        ...


class _FixedLength:
    __slots__ = ("length", "start")

    def __init__(self, start: datetime, length: timedelta) -> None:
        self.start = start
        self.length = length

    def boundary(self, index: int) -> datetime:
        return self.start + index * self.length

    def index_at(self, at: datetime) -> int:
        return (at - self.start) // self.length


class _WallClockHandoffs:
    """Boundaries at a local hand-off time on every ``period_days``-th day."""

    __slots__ = ("first_handoff_day", "period_days", "rotation", "start", "weekday", "zone")

    def __init__(
        self,
        start: datetime,
        rotation: DailyRotation | WeeklyRotation,
        zone: ZoneInfo,
    ) -> None:
        self.start = start
        self.rotation = rotation
        self.zone = zone
        self.period_days = 7 if isinstance(rotation, WeeklyRotation) else 1
        self.weekday = rotation.handoff_day if isinstance(rotation, WeeklyRotation) else None
        # Hand-offs on days before the start's local date are all at or before the start.
        day = self._on_or_after(local_date(start, zone))
        while self._handoff(day) <= start:
            day += timedelta(days=self.period_days)
        self.first_handoff_day = day

    def boundary(self, index: int) -> datetime:
        if index == 0:
            return self.start
        return self._handoff(
            self.first_handoff_day + timedelta(days=(index - 1) * self.period_days)
        )

    def index_at(self, at: datetime) -> int:
        if at < self._handoff(self.first_handoff_day):
            return 0
        step = timedelta(days=self.period_days)
        # The latest hand-off at or before ``at`` is on a day near ``at``'s local date;
        # the two loops settle it in a step or two (clock jumps can shift it by a day).
        day = self._on_or_before(local_date(at, self.zone) + timedelta(days=1))
        while self._handoff(day) > at:
            day -= step
        while self._handoff(day + step) <= at:
            day += step
        return (day - self.first_handoff_day).days // self.period_days + 1

    def _handoff(self, day: date) -> datetime:
        return wall_clock_to_utc(day, self.rotation.handoff_time, self.zone)

    def _on_or_after(self, day: date) -> date:
        if self.weekday is None:
            return day
        return day + timedelta(days=(self.weekday - day.weekday()) % 7)

    def _on_or_before(self, day: date) -> date:
        if self.weekday is None:
            return day
        return day - timedelta(days=(day.weekday() - self.weekday) % 7)


def _boundaries(layer: RotatingLayer, zone: ZoneInfo) -> _Boundaries:
    start = layer.start.astimezone(UTC)
    rotation = layer.rotation
    if isinstance(rotation, CustomRotation):
        return _FixedLength(start, rotation.shift_length)
    return _WallClockHandoffs(start, rotation, zone)
