"""EscalationPolicy builders: every body built is validated against the on-call service's own
request model."""

from __future__ import annotations

import uuid

import pytest

from incident_operator.builders.escalationpolicy import policy_request, policy_schedule_references
from incident_operator.builders.oncall import (
    UnresolvedReferences,
)
from incident_platform.escalation.models import EscalationPolicyModel
from support.operator import (
    EXAMPLE_USERS,
    example,
    fake_users,
    placed,
    policy_object,
    user_id,
)


def test_the_example_policy_becomes_the_services_policy_json() -> None:
    users = fake_users(*EXAMPLE_USERS)
    obj = placed(example("escalationpolicy.yaml"), "payments")
    assert policy_schedule_references(obj) == [
        ("spec.steps[0].targets[0].name", "payments-primary")
    ]
    schedule_id = str(uuid.uuid4())
    built = policy_request(obj, users, {"payments-primary": schedule_id})
    model = EscalationPolicyModel.model_validate(built)  # the service's own request model
    assert model.name == "payments/payments-escalation"
    assert model.repeat == 2
    assert built["steps"] == [
        {"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule_id}]},
        {"delay_minutes": 15, "targets": [{"type": "user", "id": user_id(users, "lead")}]},
        {
            "delay_minutes": 30,
            "targets": [
                {"type": "webhook", "url": "https://chat.example.com/hooks/payments-incidents"},
                {"type": "user", "id": user_id(users, "cto")},
            ],
        },
    ]


def test_a_policy_without_repeat_repeats_zero_times() -> None:
    obj = policy_object("p", [{"delayMinutes": 0, "targets": [{"type": "user", "name": "bob"}]}])
    built = policy_request(obj, fake_users("bob"), {})
    EscalationPolicyModel.model_validate(built)
    assert built["repeat"] == 0
    assert built["name"] == "team-a/p"


def test_unresolved_policy_targets_tell_schedules_from_users() -> None:
    steps = [
        {"delayMinutes": 0, "targets": [{"type": "schedule", "name": "missing"}]},
        {"delayMinutes": 5, "targets": [{"type": "schedule", "name": "unsynced"}]},
        {"delayMinutes": 5, "targets": [{"type": "user", "name": "ghost@example.com"}]},
    ]
    obj = policy_object("p", steps)
    with pytest.raises(UnresolvedReferences) as raised:
        policy_request(obj, fake_users("bob"), {"unsynced": None})
    assert raised.value.problems == [
        'spec.steps[0].targets[0].name: no OnCallSchedule "missing"',
        'spec.steps[1].targets[0].name: OnCallSchedule "unsynced" is not synced yet',
        'spec.steps[2].targets[0].name: no user "ghost@example.com"',
    ]
    assert (raised.value.schedules, raised.value.users) == (2, 1)
