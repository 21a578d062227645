"""When a layer has anyone at all: its restriction windows, as UTC intervals.

Each window opens on a listed day at ``start`` and closes at ``end`` the same day, or
the next day when ``end <= start`` (over midnight; ``end == start`` is a full 24 h).
Both edges are wall-clock times placed by :mod:`.wallclock`. Overlapping or touching
windows merge into one covered stretch, so a 09:00-18:00 plus 18:00-22:00 pair is one
shift, not two. A layer without restrictions is covered all the time.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from incident_platform.schedule.wallclock import Weekday, local_date, next_day, wall_clock_to_utc


@dataclass(frozen=True, slots=True)
class Restriction:
    """A window, on each of ``days``, during which the layer has someone on call.

    ``end <= start`` runs past midnight into the next day; ``end == start`` is 24 hours.
    """

    days: frozenset[Weekday]
    start: time
    end: time


Interval = tuple[datetime, datetime]

_TINY = timedelta(microseconds=1)


def covered_intervals(
    restrictions: tuple[Restriction, ...], zone: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """The covered parts of [start, end) (UTC), merged, sorted and clipped to it."""
    if not restrictions:
        return [(start, end)] if start < end else []
    # A window opening on day D closes by D+2 00:00, so one opening two days before
    # ``start``'s date ends by ``start``; the day after ``end``'s date is a safety margin.
    first_day = local_date(start, zone) - timedelta(days=1)
    last_day = local_date(end, zone) + timedelta(days=1)
    windows = sorted(_windows(restrictions, zone, first_day, last_day))
    covered: list[Interval] = []
    for window_start, window_end in windows:
        if covered and window_start <= covered[-1][1]:
            if window_end > covered[-1][1]:
                covered[-1] = (covered[-1][0], window_end)
        else:
            covered.append((window_start, window_end))
    return [(max(s, start), min(e, end)) for s, e in covered if e > start and s < end]


def is_covered(restrictions: tuple[Restriction, ...], zone: ZoneInfo, at: datetime) -> bool:
    # Same code path as the renderer, so a point lookup can never disagree with it.
    return bool(covered_intervals(restrictions, zone, at, at + _TINY))


def _windows(
    restrictions: tuple[Restriction, ...], zone: ZoneInfo, first_day: date, last_day: date
) -> list[Interval]:
    windows: list[Interval] = []
    day = first_day
    while day <= last_day:
        for restriction in restrictions:
            if day.weekday() not in restriction.days:
                continue
            closing_day = next_day(day) if restriction.end <= restriction.start else day
            opens = wall_clock_to_utc(day, restriction.start, zone)
            closes = wall_clock_to_utc(closing_day, restriction.end, zone)
            if closes > opens:  # a window wholly inside a DST gap covers no real time
                windows.append((opens, closes))
        day = next_day(day)
    return windows
