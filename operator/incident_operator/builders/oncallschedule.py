"""OnCallSchedule objects: the on-call service's schedule JSON, users resolved to ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from incident_operator.builders.oncall import UnresolvedReferences, find_user, oncall_name

# The keys each rotation type has in the on-call service (which refuses any other key).
_ROTATION_KEYS: dict[str, tuple[str, ...]] = {
    "daily": ("type", "handoff_time"),
    "weekly": ("type", "handoff_time", "handoff_day"),
    "custom": ("type", "shift_hours"),
}


def _timestamp(value: Any) -> Any:
    """RFC 3339 as the spec has it (a ``datetime`` if someone built the object in Python)."""
    return value.isoformat() if isinstance(value, datetime) else value


def _rotation(rotation: Mapping[str, Any]) -> dict[str, Any]:
    keys = _ROTATION_KEYS.get(str(rotation.get("type")))
    if keys is None:  # not one the service knows: sent as it is, so the service says why
        return dict(rotation)
    return {key: rotation[key] for key in keys if key in rotation}


def schedule_request(body: Mapping[str, Any], users: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The on-call service's schedule JSON for an OnCallSchedule object, user references
    resolved to user ids (:class:`UnresolvedReferences` names every one that is not)."""
    spec = body.get("spec") or {}
    problems: list[str] = []
    layers: list[dict[str, Any]] = []
    for index, layer in enumerate(spec.get("layers") or []):
        resolved: list[str] = []
        for position, reference in enumerate(layer.get("users") or []):
            try:
                resolved.append(find_user(str(reference), users))
            except LookupError as error:
                problems.append(f"spec.layers[{index}].users[{position}]: {error}")
        layers.append(
            {
                "name": layer.get("name"),
                "users": resolved,
                "start": _timestamp(layer.get("start")),
                "rotation": _rotation(layer.get("rotation") or {}),
                "restrictions": [
                    {
                        "days": list(restriction.get("days") or []),
                        "start": restriction.get("start"),
                        "end": restriction.get("end"),
                    }
                    for restriction in layer.get("restrictions") or []
                ],
            }
        )
    if problems:
        raise UnresolvedReferences(problems)
    return {
        "name": oncall_name(body),
        "timezone": spec.get("timezone") or "UTC",  # the CRD's default (emulators skip it)
        "layers": layers,
    }
