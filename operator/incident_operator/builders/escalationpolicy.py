"""EscalationPolicy objects: the on-call service's policy JSON, targets resolved to ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from incident_operator.builders.oncall import (
    UnresolvedReferences,
    find_user,
    oncall_name,
    quoted,
)


def policy_schedule_references(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field, OnCallSchedule name)`` of every schedule target of an EscalationPolicy."""
    found: list[tuple[str, str]] = []
    for index, step in enumerate((body.get("spec") or {}).get("steps") or []):
        for position, target in enumerate(step.get("targets") or []):
            if target.get("type") == "schedule" and target.get("name"):
                found.append((f"spec.steps[{index}].targets[{position}].name", target["name"]))
    return found


def policy_request(
    body: Mapping[str, Any],
    users: Sequence[Mapping[str, Any]],
    schedule_ids: Mapping[str, str | None],
) -> dict[str, Any]:
    """The on-call service's escalation policy JSON for an EscalationPolicy object.

    ``delayMinutes`` becomes ``delay_minutes``; a target's ``name`` becomes the ``id`` of the
    user (see :func:`find_user`) or of the schedule: ``schedule_ids`` maps each OnCallSchedule
    of the namespace that was looked up to its ``status.syncedId`` (``None``: not synced yet;
    absent: no such object). :class:`UnresolvedReferences` names every target that is neither.
    """
    spec = body.get("spec") or {}
    problems: list[str] = []
    schedules = 0
    steps: list[dict[str, Any]] = []
    for index, step in enumerate(spec.get("steps") or []):
        targets: list[dict[str, Any]] = []
        for position, target in enumerate(step.get("targets") or []):
            field = f"spec.steps[{index}].targets[{position}].name"
            kind = target.get("type")
            name = str(target.get("name") or "")
            if kind == "webhook":
                targets.append({"type": "webhook", "url": target.get("url")})
            elif kind == "user":
                try:
                    targets.append({"type": "user", "id": find_user(name, users)})
                except LookupError as error:
                    problems.append(f"{field}: {error}")
            elif kind == "schedule":
                schedule_id = schedule_ids.get(name)
                if schedule_id:
                    targets.append({"type": "schedule", "id": str(schedule_id)})
                    continue
                schedules += 1
                if name in schedule_ids:
                    problems.append(f"{field}: OnCallSchedule {quoted(name)} is not synced yet")
                else:
                    problems.append(f"{field}: no OnCallSchedule {quoted(name)}")
            else:  # not a kind the service knows: sent as it is, so the service says why
                targets.append(dict(target))
        steps.append({"delay_minutes": step.get("delayMinutes"), "targets": targets})
    if problems:
        raise UnresolvedReferences(problems, schedules=schedules)
    return {"name": oncall_name(body), "steps": steps, "repeat": spec.get("repeat") or 0}
