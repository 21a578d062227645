"""Parsers and checks for schedule input that the HTTP models (:mod:`.models`) call;
every error names the offending field.

Errors are :class:`FieldError` (a ``ValueError``) reading ``"<field path>: <reason>"``,
e.g. ``handoff_day: unknown weekday 'funday'``. Schedules reach the rules only through
those models, so the models' validation is the only validation.
"""

import math
import re
from datetime import time
from zoneinfo import ZoneInfo

from incident_platform.schedule.rotation import MAX_SHIFT_HOURS, MIN_SHIFT_HOURS
from incident_platform.schedule.wallclock import Weekday
from incident_platform.timezones import iana_zone

WEEKDAY_NAMES: dict[str, Weekday] = {day.name.lower(): day for day in Weekday}
"""``handoff_day`` spelling: monday .. sunday."""

DAY_ABBREVIATIONS: dict[str, Weekday] = {day.name.lower()[:3]: day for day in Weekday}
"""Restriction ``days`` spelling: mon .. sun."""

_CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class FieldError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse_clock_time(text: str, field: str) -> time:
    """A wall-clock ``"HH:MM"`` (00:00 .. 23:59)."""
    match = _CLOCK_TIME.fullmatch(text)
    if match is None:
        raise FieldError(field, f'expected a time of day as "HH:MM" (00:00 to 23:59), got {text!r}')
    return time(int(match[1]), int(match[2]))


def parse_weekday(text: str, field: str) -> Weekday:
    """A full weekday name, ``"monday"`` .. ``"sunday"``."""
    try:
        return WEEKDAY_NAMES[text]
    except KeyError:
        raise FieldError(
            field, f"unknown weekday {text!r}, expected one of {', '.join(WEEKDAY_NAMES)}"
        ) from None


def parse_day(text: str, field: str) -> Weekday:
    """An abbreviated weekday, ``"mon"`` .. ``"sun"``."""
    try:
        return DAY_ABBREVIATIONS[text]
    except KeyError:
        raise FieldError(
            field, f"unknown day {text!r}, expected one of {', '.join(DAY_ABBREVIATIONS)}"
        ) from None


def parse_timezone(name: str, field: str = "timezone") -> ZoneInfo:
    """:func:`incident_platform.timezones.iana_zone`, its error naming ``field``."""
    try:
        return iana_zone(name)
    except ValueError as error:
        raise FieldError(field, str(error)) from None


def validate_shift_hours(hours: float, field: str) -> float:
    if not math.isfinite(hours) or hours <= 0:
        raise FieldError(field, "must be a positive number of hours")
    if hours < MIN_SHIFT_HOURS:
        raise FieldError(field, "must be at least one minute (1/60 of an hour)")
    if hours > MAX_SHIFT_HOURS:
        raise FieldError(field, f"must be at most {MAX_SHIFT_HOURS} hours (one year)")
    return hours
