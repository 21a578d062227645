"""Checks and parsers for schedule input; every error names the offending field.

Errors are :class:`FieldError` (a ``ValueError``) reading ``"<field path>: <reason>"``,
e.g. ``layers[0].users: a layer needs at least one user``. The HTTP models in
:mod:`.models` reuse the same parsers so both paths say the same thing.
"""

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from incident_platform.schedule.domain import (
    MAX_SHIFT_HOURS,
    MIN_SHIFT_HOURS,
    OVERRIDE_LAYER,
    CustomRotation,
    DailyRotation,
    Layer,
    Override,
    Restriction,
    Schedule,
    Weekday,
    WeeklyRotation,
)
from incident_platform.schedule.wallclock import NAIVE_DATETIME
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


def require_aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise FieldError(field, NAIVE_DATETIME)
    return value


def validate_shift_hours(hours: float, field: str) -> float:
    if not math.isfinite(hours) or hours <= 0:
        raise FieldError(field, "must be a positive number of hours")
    if hours < MIN_SHIFT_HOURS:
        raise FieldError(field, "must be at least one minute (1/60 of an hour)")
    if hours > MAX_SHIFT_HOURS:
        raise FieldError(field, f"must be at most {MAX_SHIFT_HOURS} hours (one year)")
    return hours


def validate_schedule(schedule: Schedule) -> None:
    """Raise :class:`FieldError` for the first problem found in ``schedule``."""
    if not schedule.name.strip():
        raise FieldError("name", "a schedule needs a name")
    parse_timezone(schedule.timezone)
    if not schedule.layers:
        raise FieldError("layers", "a schedule needs at least one layer")
    seen_names: set[str] = set()
    for index, layer in enumerate(schedule.layers):
        field = f"layers[{index}]"
        validate_layer(layer, field)
        if layer.name in seen_names:
            raise FieldError(f"{field}.name", f"another layer is already named {layer.name!r}")
        seen_names.add(layer.name)


def validate_layer(layer: Layer, field: str) -> None:
    if not layer.name.strip():
        raise FieldError(f"{field}.name", "a layer needs a name")
    if layer.name == OVERRIDE_LAYER:
        raise FieldError(f"{field}.name", f"{OVERRIDE_LAYER!r} is reserved for overrides")
    if not layer.users:
        raise FieldError(f"{field}.users", "a layer needs at least one user")
    for position, user in enumerate(layer.users):
        if not user:
            raise FieldError(f"{field}.users[{position}]", "a user id must not be empty")
    require_aware(layer.start, f"{field}.start")
    rotation = layer.rotation
    if isinstance(rotation, CustomRotation):
        validate_shift_hours(rotation.shift_hours, f"{field}.rotation.shift_hours")
    else:
        _validate_handoff(rotation, f"{field}.rotation")
    for position, restriction in enumerate(layer.restrictions):
        _validate_restriction(restriction, f"{field}.restrictions[{position}]")


def validate_override(override: Override, field: str = "override") -> None:
    if not override.user:
        raise FieldError(f"{field}.user", "an override needs a user")
    require_aware(override.start, f"{field}.start")
    require_aware(override.end, f"{field}.end")
    # In UTC: two datetimes sharing a ZoneInfo compare by wall clock, ignoring fold.
    if override.end.astimezone(UTC) <= override.start.astimezone(UTC):
        raise FieldError(f"{field}.end", "an override must end after it starts")


def validate_overrides(overrides: Sequence[Override]) -> None:
    for index, override in enumerate(overrides):
        validate_override(override, f"overrides[{index}]")


def _validate_handoff(rotation: DailyRotation | WeeklyRotation, field: str) -> None:
    _require_clock_time(rotation.handoff_time, f"{field}.handoff_time")
    if isinstance(rotation, WeeklyRotation) and not isinstance(rotation.handoff_day, Weekday):
        raise FieldError(f"{field}.handoff_day", "must be a Weekday")


def _validate_restriction(restriction: Restriction, field: str) -> None:
    if not restriction.days:
        raise FieldError(f"{field}.days", "a restriction needs at least one day")
    if not all(isinstance(day, Weekday) for day in restriction.days):
        raise FieldError(f"{field}.days", "days must be Weekday values")
    _require_clock_time(restriction.start, f"{field}.start")
    _require_clock_time(restriction.end, f"{field}.end")


def _require_clock_time(value: time, field: str) -> None:
    # Zone-free whole minutes only: the zone is the schedule's, and "HH:MM" is the contract.
    if value.tzinfo is not None or value.second or value.microsecond:
        raise FieldError(field, 'must be a whole-minute local time ("HH:MM") without a zone')
