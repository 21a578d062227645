"""Alert builders: the ingestion request and the status patches, validated against the CRD."""

from __future__ import annotations

import pytest

from incident_operator.builders.alert import (
    alert_failure_status,
    alert_fingerprint,
    alert_request,
    alert_status,
)
from incident_operator.models import IngestResult
from support.operator import (
    NOW,
    Problems,
    an_alert,
    with_status,
)


def test_the_fingerprint_is_the_specs_or_derived_from_the_object() -> None:
    assert alert_fingerprint(an_alert(fingerprint="fp-1")) == "fp-1"
    assert alert_fingerprint(an_alert()) == "k8s:shop/checkout-errors"


def test_alert_request_maps_the_spec_to_the_ingestion_api() -> None:
    alert = an_alert(
        severity="critical",
        state="firing",
        description="details",
        labels={"team": "payments"},
        annotations={"runbook_url": "https://runbooks.example.com/x"},
        startsAt="2026-11-26T16:00:00Z",
    )
    assert alert_request(alert) == {
        "service": "checkout",
        "summary": "5xx above 5%",
        "severity": "critical",
        "status": "firing",
        "fingerprint": "k8s:shop/checkout-errors",
        "source": "kubernetes",
        "description": "details",
        "labels": {"team": "payments"},
        "annotations": {
            "runbook_url": "https://runbooks.example.com/x",
            "incident-platform.io/alert": "shop/checkout-errors",
        },
        "starts_at": "2026-11-26T16:00:00Z",
    }


def test_alert_request_defaults_and_overrides() -> None:
    request = alert_request(an_alert(source="prometheus", endsAt="2026-11-26T17:00:00Z"))
    assert request["status"] == "firing"
    assert request["source"] == "prometheus"
    assert request["ends_at"] == "2026-11-26T17:00:00Z"
    assert "severity" not in request
    assert "description" not in request
    assert alert_request(an_alert(state="firing"), state="resolved")["status"] == "resolved"
    assert alert_request(an_alert(state="resolved"))["status"] == "resolved"


@pytest.mark.parametrize(
    ("action", "phase"),
    [
        ("created", "Correlated"),
        ("attached", "Correlated"),
        ("deduplicated", "Correlated"),
        ("resolved", "Resolved"),
    ],
)
def test_alert_status_after_delivery(action: str, phase: str, crd_problems: Problems) -> None:
    alert = an_alert()
    result = IngestResult.model_validate({"alert_id": 7, "incident_id": 42, "action": action})
    status = alert_status(result, fingerprint="fp", body=alert, now=NOW)
    assert status["phase"] == phase
    assert status["action"] == action
    assert (status["alertId"], status["incidentId"], status["incidentRef"]) == (7, 42, "inc-42")
    assert status["fingerprint"] == "fp"
    assert status["observedGeneration"] == 3
    (ready,) = status["conditions"]
    assert (ready["type"], ready["status"]) == ("Ready", "True")
    assert (ready["reason"], ready["observedGeneration"]) == (action.capitalize(), 3)
    assert crd_problems(with_status(alert, status)) == []


def test_a_silenced_alert_has_no_incident_yet(crd_problems: Problems) -> None:
    alert = an_alert()
    result = IngestResult(alert_id=7, incident_id=None, action="silenced")
    status = alert_status(result, fingerprint="fp", body=alert, now=NOW)
    assert (status["phase"], status["alertId"]) == ("Silenced", 7)
    assert "incidentId" not in status
    assert "silence mutes it" in status["message"]
    assert crd_problems(with_status(alert, status)) == []


def test_an_ignored_resolution_keeps_the_incident_it_had(crd_problems: Problems) -> None:
    alert = with_status(an_alert(state="resolved"), {"incidentId": 42, "incidentRef": "inc-42"})
    result = IngestResult(alert_id=None, incident_id=None, action="ignored")
    status = alert_status(result, fingerprint="fp", body=alert, now=NOW)
    assert status["phase"] == "Resolved"
    assert "incidentId" not in status
    assert "alertId" not in status
    after = with_status(alert, status)
    assert after["status"]["incidentRef"] == "inc-42"
    assert crd_problems(after) == []


def test_failures_fail_or_keep_pending(crd_problems: Problems) -> None:
    alert = an_alert(summary=" ")
    rejected = alert_failure_status(
        "summary: must not be blank", reason="Rejected", fingerprint="fp", body=alert, now=NOW
    )
    assert rejected["phase"] == "Failed"
    assert rejected["conditions"][0]["reason"] == "Rejected"
    assert rejected["conditions"][0]["message"] == "summary: must not be blank"
    down = alert_failure_status(
        "connection refused", reason="PlatformUnavailable", fingerprint="fp", body=alert
    )
    assert down["phase"] == "Pending"
    assert down["conditions"][0]["status"] == "False"
    for status in (rejected, down):
        assert crd_problems(with_status(an_alert(), status)) == []
