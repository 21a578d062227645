"""Schedules as stored JSON: the explicit mapping between the rules' values and the
``layers`` document kept in ``schedules.layers``.

Storage is written and read here and nowhere else, so the HTTP shapes (:mod:`.models`)
can change without changing what is on disk. The document is the one the API has
always stored: instants in ISO 8601 with their offset (``Z`` for UTC), wall-clock
times as ``"HH:MM"``, weekdays spelled ``monday``/``mon``.
"""

from datetime import datetime, time, timedelta
from typing import Any

from incident_platform.schedule.restrictions import Restriction
from incident_platform.schedule.rotation import (
    CustomRotation,
    DailyRotation,
    Rotation,
    WeeklyRotation,
)
from incident_platform.schedule.rules import Layer, Schedule
from incident_platform.schedule.wallclock import Weekday

_WEEKDAY_NAMES = {day: day.name.lower() for day in Weekday}
_DAY_NAMES = {day: day.name.lower()[:3] for day in Weekday}
_WEEKDAYS = {name: day for day, name in _WEEKDAY_NAMES.items()}
_DAYS = {name: day for day, name in _DAY_NAMES.items()}


def layers_to_json(schedule: Schedule) -> list[dict[str, Any]]:
    return [_layer_to_json(layer) for layer in schedule.layers]


def schedule_from_json(name: str, timezone: str, layers: list[dict[str, Any]]) -> Schedule:
    return Schedule(
        name=name, timezone=timezone, layers=tuple(_layer_from_json(layer) for layer in layers)
    )


def instant_to_json(value: datetime) -> str:
    text = value.isoformat()
    if value.utcoffset() == timedelta(0) and text.endswith("+00:00"):
        return text[: -len("+00:00")] + "Z"
    return text


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def _layer_to_json(layer: Layer) -> dict[str, Any]:
    return {
        "name": layer.name,
        "users": list(layer.users),
        "start": instant_to_json(layer.start),
        "rotation": _rotation_to_json(layer.rotation),
        "restrictions": [
            {
                "days": [_DAY_NAMES[day] for day in sorted(restriction.days)],
                "start": _clock(restriction.start),
                "end": _clock(restriction.end),
            }
            for restriction in layer.restrictions
        ],
    }


def _rotation_to_json(rotation: Rotation) -> dict[str, Any]:
    match rotation:
        case CustomRotation(shift_hours=hours):
            return {"type": "custom", "shift_hours": float(hours)}
        case WeeklyRotation(handoff_time=handoff_time, handoff_day=handoff_day):
            return {
                "type": "weekly",
                "handoff_time": _clock(handoff_time),
                "handoff_day": _WEEKDAY_NAMES[handoff_day],
            }
        case DailyRotation(handoff_time=handoff_time):
            return {"type": "daily", "handoff_time": _clock(handoff_time)}
    raise AssertionError(f"unknown rotation {rotation!r}")


def _layer_from_json(layer: dict[str, Any]) -> Layer:
    return Layer(
        name=layer["name"],
        users=tuple(layer["users"]),
        start=datetime.fromisoformat(layer["start"]),
        rotation=_rotation_from_json(layer["rotation"]),
        restrictions=tuple(
            Restriction(
                days=frozenset(_DAYS[day] for day in restriction["days"]),
                start=time.fromisoformat(restriction["start"]),
                end=time.fromisoformat(restriction["end"]),
            )
            for restriction in layer.get("restrictions", [])
        ),
    )


def _rotation_from_json(rotation: dict[str, Any]) -> Rotation:
    kind = rotation["type"]
    if kind == "custom":
        return CustomRotation(shift_hours=float(rotation["shift_hours"]))
    handoff_time = time.fromisoformat(rotation["handoff_time"])
    if kind == "weekly":
        return WeeklyRotation(handoff_time, _WEEKDAYS[rotation["handoff_day"]])
    if kind == "daily":
        return DailyRotation(handoff_time)
    raise ValueError(f"unknown rotation type {kind!r} in a stored schedule")
