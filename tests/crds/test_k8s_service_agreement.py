"""The CRDs and the platform's own request models agree.

The operator sends an OnCallSchedule's spec to the on-call service as it is (plus the defaults:
name from metadata.name, timezone UTC), and an EscalationPolicy's spec after renaming
delayMinutes -> delay_minutes and a target's name -> id. These tests run the examples through
the services' pydantic models, so a manifest the cluster accepts is one the service accepts,
and the limits in the CRDs are the services' limits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pydantic
import pytest

from incident_platform.escalation import rules as escalation_rules
from incident_platform.escalation.models import EscalationPolicyModel
from incident_platform.schedule import rotation as schedule_rotation
from incident_platform.schedule import rules as schedule_rules
from incident_platform.schedule.models import ScheduleModel

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
INVALID = EXAMPLES / "invalid"

LoadDocs = Callable[[Path], list[dict[str, Any]]]
Violation = tuple[str, str, str]
Validate = Callable[[Mapping[str, Any]], list[Violation]]


def schedule_request(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON the operator sends to the on-call service for an OnCallSchedule."""
    spec = dict(resource["spec"])
    spec.setdefault("name", resource["metadata"]["name"])
    spec.setdefault("timezone", "UTC")
    return spec


def policy_request(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON the operator sends to the on-call service for an EscalationPolicy."""
    spec = resource["spec"]
    steps = []
    for step in spec.get("steps", []):
        targets = []
        for target in step.get("targets", []):
            renamed = {("id" if key == "name" else key): value for key, value in target.items()}
            targets.append(renamed)
        steps.append({"delay_minutes": step.get("delayMinutes"), "targets": targets})
    return {
        "name": spec.get("name", resource["metadata"]["name"]),
        "steps": steps,
        "repeat": spec.get("repeat", 0),
    }


def _spec_schema(crds: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    (version,) = crds[kind]["spec"]["versions"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return schema


def _service_accepts(resource: Mapping[str, Any]) -> bool:
    try:
        if resource["kind"] == "OnCallSchedule":
            ScheduleModel.model_validate(schedule_request(resource))
        else:
            EscalationPolicyModel.model_validate(policy_request(resource))
    except pydantic.ValidationError:
        return False
    return True


ONCALL_EXAMPLES = sorted(
    [*EXAMPLES.glob("oncallschedule*.yaml"), *EXAMPLES.glob("escalationpolicy*.yaml")]
)
ONCALL_INVALID = sorted(
    [*INVALID.glob("oncallschedule*.yaml"), *INVALID.glob("escalationpolicy*.yaml")]
)


@pytest.mark.parametrize("path", ONCALL_EXAMPLES, ids=[p.name for p in ONCALL_EXAMPLES])
def test_service_accepts_the_valid_example(path: Path, yaml_docs: LoadDocs) -> None:
    (resource,) = yaml_docs(path)
    assert _service_accepts(resource)


@pytest.mark.parametrize("path", ONCALL_INVALID, ids=[p.name for p in ONCALL_INVALID])
def test_service_refuses_what_the_cluster_refuses(
    path: Path, yaml_docs: LoadDocs, validate_resource: Validate
) -> None:
    (resource,) = yaml_docs(path)
    assert validate_resource(resource) != []
    assert not _service_accepts(resource)


def test_schedule_limits_are_the_services(crds: dict[str, dict[str, Any]]) -> None:
    spec = _spec_schema(crds, "OnCallSchedule")["properties"]
    layer = spec["layers"]["items"]["properties"]
    rotation = layer["rotation"]["properties"]
    model = ScheduleModel.model_json_schema()
    defs = model["$defs"]
    assert spec["name"]["maxLength"] == model["properties"]["name"]["maxLength"]
    assert layer["name"]["maxLength"] == defs["LayerModel"]["properties"]["name"]["maxLength"]
    assert layer["name"]["not"] == {"enum": [schedule_rules.OVERRIDE_LAYER]}
    users = defs["LayerModel"]["properties"]["users"]["items"]
    assert layer["users"]["items"]["maxLength"] == users["maxLength"]
    assert layer["users"]["items"]["minLength"] == users["minLength"]
    assert rotation["shift_hours"]["minimum"] == schedule_rotation.MIN_SHIFT_HOURS
    assert rotation["shift_hours"]["maximum"] == schedule_rotation.MAX_SHIFT_HOURS
    assert rotation["type"]["enum"] == ["daily", "weekly", "custom"]
    weekly = defs["WeeklyRotationModel"]["properties"]["handoff_day"]["enum"]
    assert rotation["handoff_day"]["enum"] == weekly
    days = defs["RestrictionModel"]["properties"]["days"]["items"]["enum"]
    restriction = layer["restrictions"]["items"]["properties"]
    assert restriction["days"]["items"]["enum"] == days


def test_escalation_limits_are_the_services(crds: dict[str, dict[str, Any]]) -> None:
    schema = _spec_schema(crds, "EscalationPolicy")
    spec = schema["properties"]
    step = spec["steps"]["items"]["properties"]
    assert step["delayMinutes"]["maximum"] == escalation_rules.MAX_DELAY_MINUTES
    assert spec["repeat"]["maximum"] == escalation_rules.MAX_REPEAT
    model = EscalationPolicyModel.model_json_schema()
    assert spec["name"]["maxLength"] == model["properties"]["name"]["maxLength"]
    (gap_rule,) = schema["x-kubernetes-validations"]
    assert " ".join(gap_rule["message"].split()) == escalation_rules.REPEAT_NEEDS_A_GAP
    targets = step["targets"]["items"]["properties"]
    assert targets["type"]["enum"] == ["schedule", "user", "webhook"]


@pytest.mark.parametrize(
    ("repeat", "delays", "accepted"),
    [
        (0, [0, 0], True),
        (2, [0, 0], False),
        (2, [5, 0], True),
        (2, [0, 0, 5], True),
        (2, [0, 5, 0], False),
        (1, [0], False),
    ],
)
def test_repeat_gap_rule_agrees_with_the_service(
    repeat: int, delays: list[int], accepted: bool, validate_resource: Validate
) -> None:
    resource = {
        "apiVersion": "incident-platform.io/v1alpha1",
        "kind": "EscalationPolicy",
        "metadata": {"name": "gap"},
        "spec": {
            "repeat": repeat,
            "steps": [
                {"delayMinutes": d, "targets": [{"type": "user", "name": "a@example.com"}]}
                for d in delays
            ],
        },
    }
    assert (validate_resource(resource) == []) is accepted
    assert _service_accepts(resource) is accepted
