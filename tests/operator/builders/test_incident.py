"""Incident builders: the mirror object, its status and the requested transitions, validated
against the CRD."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from incident_operator.builders.incident import (
    incident_name,
    incident_object,
    incident_status,
    incident_sync_status,
    incident_transition,
    mirrored_change_seqs,
)
from support.operator import (
    NOW,
    Problems,
    an_incident,
    with_status,
)

ACKNOWLEDGED = {
    "status": "acknowledged",
    "acknowledged_at": NOW + timedelta(seconds=90),
    "time_to_acknowledge_seconds": 90.25,
    "assignee": "alice@example.com",
}


RESOLVED = {
    **ACKNOWLEDGED,
    "status": "resolved",
    "resolved_at": NOW + timedelta(seconds=600),
    "time_to_resolve_seconds": 600.5,
}


def test_incident_object_names_and_labels_the_mirror(crd_problems: Problems) -> None:
    obj = incident_object(an_incident(), "incident-platform")
    assert obj["metadata"]["name"] == incident_name(42) == "inc-42"
    assert obj["metadata"]["namespace"] == "incident-platform"
    assert obj["metadata"]["labels"]["incident-platform.io/incident-id"] == "42"
    assert obj["spec"] == {"incidentId": 42}
    assert "status" not in obj
    assert crd_problems(obj) == []


@pytest.mark.parametrize("changes", [{}, ACKNOWLEDGED, RESOLVED], ids=["open", "acked", "done"])
def test_incident_status_mirrors_the_platform(
    changes: dict[str, Any], crd_problems: Problems
) -> None:
    incident = an_incident(**changes)
    status = incident_status(incident, public_url="https://incidents.example.com/")
    assert status["status"] == incident.status
    assert status["severity"] == "critical"
    assert status["alertCount"] == 2
    assert status["createdAt"] == "2026-11-26T16:30:00Z"
    assert status["changeSeq"] == 17
    assert status["url"] == "https://incidents.example.com/api/v1/incidents/42"
    assert status["timeToAcknowledgeSeconds"] == incident.time_to_acknowledge_seconds
    assert status["timeToResolveSeconds"] == incident.time_to_resolve_seconds
    assert crd_problems(with_status(incident_object(incident, "ns"), status)) == []


def test_a_reopened_incident_clears_what_no_longer_holds(crd_problems: Problems) -> None:
    mirror = with_status(
        incident_object(an_incident(), "ns"),
        incident_status(an_incident(**RESOLVED), public_url="http://x"),
    )
    reopened = incident_status(an_incident(change_seq=30), public_url="http://x")
    after = with_status(mirror, reopened)
    assert after["status"]["status"] == "triggered"
    for gone in ("resolvedAt", "acknowledgedAt", "timeToResolveSeconds", "assignee"):
        assert gone not in after["status"], gone
    assert crd_problems(after) == []


def test_sync_conditions_validate(crd_problems: Problems) -> None:
    mirror = incident_object(an_incident(), "ns")
    mirror["spec"]["state"] = "acknowledged"
    mirror["metadata"]["generation"] = 2
    refused = incident_sync_status(
        mirror,
        status="False",
        reason="IllegalTransition",
        message="cannot acknowledge an incident that is resolved",
    )
    assert refused["observedGeneration"] == 2
    after = with_status(mirror, refused)
    assert crd_problems(after) == []
    done = incident_sync_status(after, status="True", reason="Acknowledged", message="ok")
    assert [c["type"] for c in done["conditions"]] == ["Synced"]
    assert crd_problems(with_status(after, done)) == []


def test_requested_states_map_to_transitions() -> None:
    assert incident_transition("acknowledged") == "acknowledge"
    assert incident_transition("resolved") == "resolve"
    with pytest.raises(KeyError):
        incident_transition("triggered")


def test_mirrored_change_seqs_reads_the_mirrors() -> None:
    objects: list[dict[str, Any]] = [
        {"spec": {"incidentId": 1}, "status": {"changeSeq": 9}},
        {"spec": {"incidentId": 2}},  # created, status not written yet
        {"spec": {}},  # not a mirror
    ]
    assert mirrored_change_seqs(objects) == {1: 9, 2: -1}
