"""On-call schedule values: plain frozen data, no behaviour beyond naming things.

Instants are aware datetimes (any zone on the way in, always UTC on the way out).
Wall-clock values - hand-off times and restriction windows - are naive ``time``s
read in the schedule's zone; :mod:`.wallclock` decides what they mean around DST.
"""

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

OVERRIDE_LAYER = "override"
"""The layer reported for time taken over by an override (no layer may use this name)."""

# Custom shift bounds: anything outside is almost surely a typo, and a year of
# one-minute shifts is already half a million calendar events.
MIN_SHIFT_HOURS = 1 / 60
MAX_SHIFT_HOURS = 24 * 365


class Weekday(enum.IntEnum):
    """Numbered like ``date.weekday()`` so the two compare directly."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


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


@dataclass(frozen=True, slots=True)
class Restriction:
    """A window, on each of ``days``, during which the layer has someone on call.

    ``end <= start`` runs past midnight into the next day; ``end == start`` is 24 hours.
    """

    days: frozenset[Weekday]
    start: time
    end: time


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
