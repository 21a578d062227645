"""Escalation policies as stored JSON: the explicit mapping between the rules' values and
the ``steps`` document kept in ``escalation_policies.steps``.

Storage is written and read here and nowhere else, so the HTTP shapes (:mod:`.models`)
can change without changing what is on disk. Services' SQL that searches the document
(``steps @> ...``) relies on the target shape written here.
"""

from typing import Any

from incident_platform.escalation.rules import (
    EscalationPolicy,
    EscalationStep,
    ScheduleTarget,
    Target,
    UserTarget,
    WebhookTarget,
)


def steps_to_json(policy: EscalationPolicy) -> list[dict[str, Any]]:
    return [
        {
            "delay_minutes": step.delay_minutes,
            "targets": [target_to_json(target) for target in step.targets],
        }
        for step in policy.steps
    ]


def policy_from_json(name: str, steps: list[dict[str, Any]], repeat: int) -> EscalationPolicy:
    return EscalationPolicy(
        name=name,
        steps=tuple(
            EscalationStep(
                int(step["delay_minutes"]),
                tuple(target_from_json(target) for target in step["targets"]),
            )
            for step in steps
        ),
        repeat=repeat,
    )


def target_to_json(target: Target) -> dict[str, str]:
    match target:
        case ScheduleTarget(id=target_id):
            return {"type": "schedule", "id": target_id}
        case UserTarget(id=target_id):
            return {"type": "user", "id": target_id}
        case WebhookTarget(url=url):
            return {"type": "webhook", "url": url}
    raise AssertionError(f"unknown target {target!r}")


def target_from_json(target: dict[str, str]) -> Target:
    kind = target["type"]
    if kind == "schedule":
        return ScheduleTarget(target["id"])
    if kind == "user":
        return UserTarget(target["id"])
    if kind == "webhook":
        return WebhookTarget(target["url"])
    raise ValueError(f"unknown target type {kind!r} in a stored policy")
