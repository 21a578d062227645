"""What a local wall-clock time means as an instant: the one DST rule of the schedules.

Rule: ``day`` at ``clock`` in a zone is the FIRST instant at which that zone's clock
reads ``day clock`` or later.

* An ordinary time is simply that instant.
* An ambiguous time (autumn fall-back, the clock shows it twice) is its first
  occurrence, i.e. ``fold=0``: a 01:30 hand-off in New York on the fall-back night
  happens at 01:30 EDT, not an hour later.
* A nonexistent time (spring-forward gap) is the instant the gap ends, i.e. the first
  valid instant after it: a 02:30 hand-off in Paris on 2026-03-29 happens at 03:00
  CEST. This is NOT PEP 495's ``fold=0`` reading (which would give 03:30): the gap's
  end is the only choice that keeps every time inside the gap at one instant, so a
  restriction window partly inside a gap covers exactly the real time it names.

Because the rule is "first instant reading at least X", the instant never moves
backwards as X moves forwards, so hand-offs and windows built from it never overlap
or change order across a transition; a shift spanning one is just 23 h or 25 h long.
"""

import enum
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_ONE_DAY = timedelta(days=1)


class Weekday(enum.IntEnum):
    """Numbered like ``date.weekday()`` so the two compare directly."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


NAIVE_DATETIME = "must include a UTC offset or zone (an on-call tool must not guess one)"


def to_utc(value: datetime, field: str) -> datetime:
    """``value`` in UTC; a naive value is refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field}: {NAIVE_DATETIME}")
    return value.astimezone(UTC)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def wall_clock_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The first instant at which the clock in ``zone`` reads ``day clock`` or later (UTC)."""
    return _first_instant_reading(datetime.combine(day, clock), zone)


def next_day(day: date) -> date:
    return day + _ONE_DAY


@lru_cache(maxsize=16384)  # hand-offs and windows repeat the same few dates constantly
def _first_instant_reading(wall: datetime, zone: ZoneInfo) -> datetime:
    first_occurrence = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _reading(first_occurrence, zone) == wall:
        return first_occurrence
    # ``wall`` falls in a gap. Its two fold readings land on either side of the
    # transition; bisect for the transition itself, the first instant past the gap.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    before, after = sorted((first_occurrence, other))
    if not _reading(before, zone) < wall <= _reading(after, zone):
        raise ValueError(f"cannot place local time {wall.isoformat()} in {zone.key}")
    resolution = timedelta(microseconds=1)
    while after - before > resolution:
        middle = before + (after - before) // 2
        if _reading(middle, zone) >= wall:
            after = middle
        else:
            before = middle
    return after


def _reading(instant: datetime, zone: ZoneInfo) -> datetime:
    """What the wall clock in ``zone`` shows at ``instant`` (naive)."""
    return instant.astimezone(zone).replace(tzinfo=None)
