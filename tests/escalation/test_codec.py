"""Escalation policies as stored JSON: the document on disk, and back to the same policy."""

import pytest

from incident_platform.escalation.codec import (
    policy_from_json,
    steps_to_json,
    target_from_json,
)
from incident_platform.escalation.rules import (
    EscalationPolicy,
    EscalationStep,
    ScheduleTarget,
    UserTarget,
    WebhookTarget,
)

POLICY = EscalationPolicy(
    "payments",
    (
        EscalationStep(0, (ScheduleTarget("sched-1"),)),
        EscalationStep(
            15, (UserTarget("5f1c6a0e-2b1e-4a55-9d0a-6d9c1b7e8f00"), WebhookTarget("https://h/x"))
        ),
    ),
    repeat=2,
)


def test_the_stored_document_has_the_shape_the_services_sql_searches() -> None:
    # Services find the policies naming a schedule or user with ``steps @> ...``.
    assert steps_to_json(POLICY) == [
        {"delay_minutes": 0, "targets": [{"type": "schedule", "id": "sched-1"}]},
        {
            "delay_minutes": 15,
            "targets": [
                {"type": "user", "id": "5f1c6a0e-2b1e-4a55-9d0a-6d9c1b7e8f00"},
                {"type": "webhook", "url": "https://h/x"},
            ],
        },
    ]


def test_a_stored_policy_reads_back_as_the_same_policy() -> None:
    assert policy_from_json("payments", steps_to_json(POLICY), 2) == POLICY


def test_delays_stored_as_text_or_float_read_back_as_minutes() -> None:
    policy = policy_from_json("p", [{"delay_minutes": "5", "targets": []}], 0)
    assert policy.steps[0].delay_minutes == 5


def test_an_unknown_target_type_on_disk_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="unknown target type 'team' in a stored policy"):
        target_from_json({"type": "team", "id": "x"})
