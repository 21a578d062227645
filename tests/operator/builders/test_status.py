"""What every kind's status shares (conditions, timestamps, merge patches), and the CRD validator
the builder tests rely on: it refuses what a real API server would refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident_operator.builders.incident import (
    incident_object,
)
from incident_operator.builders.status import apply_merge_patch, condition, rfc3339, set_condition
from support.operator import (
    NOW,
    Problems,
    an_alert,
    an_incident,
    with_status,
)


def test_conditions_keep_their_transition_time_until_the_status_changes() -> None:
    first = condition("Ready", "True", "Created", "ok", 1, now=NOW)
    later = NOW + timedelta(minutes=5)
    same = set_condition([first], condition("Ready", "True", "Deduplicated", "again", 2, now=later))
    assert same == [
        {**first, "reason": "Deduplicated", "message": "again", "observedGeneration": 2}
    ]
    flipped = set_condition(same, condition("Ready", "False", "Rejected", "no", 3, now=later))
    assert flipped[0]["lastTransitionTime"] == rfc3339(later)
    other = set_condition(flipped, condition("Synced", "True", "Done", "", None, now=later))
    assert [c["type"] for c in other] == ["Ready", "Synced"]
    assert "observedGeneration" not in other[1]


def test_condition_messages_are_clipped_to_the_crd_limit() -> None:
    built = condition("Ready", "False", "Rejected", "x" * 40000, None)
    assert len(built["message"]) == 32768


def test_timestamps_are_kubernetes_timestamps() -> None:
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"


def test_merge_patch_semantics() -> None:
    assert apply_merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}}) == {
        "a": 1,
        "b": {"d": 3, "e": 4},
    }
    assert apply_merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}


def test_the_validator_catches_what_an_api_server_would_refuse(crd_problems: Problems) -> None:
    mirror = incident_object(an_incident(), "ns")
    assert crd_problems(with_status(mirror, {"status": "open"}))
    assert crd_problems(with_status(mirror, {"unknownField": 1}))
    assert crd_problems(with_status(mirror, {"createdAt": "yesterday"}))
    assert crd_problems({**mirror, "spec": {"incidentId": 0}})
    duplicated = [condition("Synced", "True", "A", "", None)] * 2
    assert crd_problems(with_status(mirror, {"conditions": duplicated}))
    assert crd_problems(with_status(an_alert(), {"phase": "Done"}))
    bad_label = {**mirror, "metadata": {**mirror["metadata"], "labels": {"x": "not valid!"}}}
    assert crd_problems(bad_label)
