"""Pure parts of the operator: builders, error mapping, settings; and every object and status
patch the operator builds validated against the CRD schemas (the emulator does not validate:
this is what shows a real API server would accept them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import kopf
import pytest
from pydantic import ValidationError

from incident_operator.builders import (
    alert_failure_status,
    alert_fingerprint,
    alert_request,
    alert_status,
    apply_merge_patch,
    condition,
    incident_name,
    incident_object,
    incident_status,
    incident_sync_status,
    incident_transition,
    mirrored_change_seqs,
    rfc3339,
    set_condition,
)
from incident_operator.client import (
    IllegalTransition,
    IngestResult,
    PlatformIncident,
    PlatformRejected,
    PlatformUnavailable,
    backoff_delay,
    error_for,
    retry_after_seconds,
)
from incident_operator.settings import Config

Problems = Callable[[Mapping[str, Any]], list[str]]
NOW = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)


def an_alert(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "incident-platform.io/v1alpha1",
        "kind": "Alert",
        "metadata": {"name": "checkout-errors", "namespace": "shop", "generation": 3},
        "spec": {"service": "checkout", "summary": "5xx above 5%", **spec},
    }


def an_incident(**changes: Any) -> PlatformIncident:
    fields: dict[str, Any] = {
        "id": 42,
        "title": "5xx above 5%",
        "service": "checkout",
        "severity": "critical",
        "status": "triggered",
        "alert_count": 2,
        "change_seq": 17,
        "created_at": NOW,
        "updated_at": NOW + timedelta(seconds=5),
    }
    fields.update(changes)
    return PlatformIncident.model_validate(fields)


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


def with_status(obj: Mapping[str, Any], status_patch: Mapping[str, Any]) -> dict[str, Any]:
    """The object after a ``/status`` merge patch, as the API server would store it."""
    patched: dict[str, Any] = apply_merge_patch(obj, {"status": status_patch})
    return patched


# --- Alert builders ---------------------------------------------------------------------------


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


# --- Incident builders ------------------------------------------------------------------------


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


# --- How HTTP answers become kopf errors ------------------------------------------------------


def response(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("POST", "http://platform/api/v1/alerts")
    return httpx.Response(status, json=body, headers=headers, request=request)


def mapped(answer: httpx.Response, attempt: int = 0) -> Exception | None:
    return error_for(answer, attempt=attempt, base_delay=2, max_delay=60)


def test_success_is_no_error() -> None:
    assert mapped(response(202, {"action": "created"})) is None


def test_unavailable_is_temporary_and_honours_retry_after() -> None:
    error = mapped(response(503, {"detail": "database unavailable"}, {"Retry-After": "7"}))
    assert isinstance(error, PlatformUnavailable)
    assert isinstance(error, kopf.TemporaryError)
    assert error.delay == 7
    assert "database unavailable" in str(error)
    backing_off = mapped(response(500, {"detail": "internal error"}), attempt=3)
    assert isinstance(backing_off, PlatformUnavailable)
    assert backing_off.delay == 16
    assert isinstance(mapped(response(429, {})), PlatformUnavailable)


def test_validation_errors_are_permanent_and_name_the_field() -> None:
    detail = [{"loc": ["body", "summary"], "msg": "Value error, must not be blank", "type": "x"}]
    error = mapped(response(422, {"detail": detail}))
    assert isinstance(error, PlatformRejected)
    assert isinstance(error, kopf.PermanentError)
    assert error.message == "summary: Value error, must not be blank"
    assert error.status_code == 422


def test_an_illegal_transition_names_the_current_state() -> None:
    detail = {"message": "cannot acknowledge an incident that is resolved", "status": "resolved"}
    error = mapped(response(409, {"detail": detail}))
    assert isinstance(error, IllegalTransition)
    assert error.current == "resolved"
    assert error.message == "cannot acknowledge an incident that is resolved"
    assert not error.repeated


def test_a_repeated_transition_says_so() -> None:
    detail = {
        "message": "cannot acknowledge an incident that is acknowledged",
        "status": "acknowledged",
        "repeated": True,
    }
    error = mapped(response(409, {"detail": detail}))
    assert isinstance(error, IllegalTransition)
    assert error.repeated


def test_other_client_errors_are_permanent() -> None:
    for status in (401, 403, 404):
        error = mapped(response(status, {"detail": "nope"}))
        assert isinstance(error, PlatformRejected)
        assert not isinstance(error, IllegalTransition)
        assert error.message == "nope"


def test_retry_after_and_backoff() -> None:
    assert retry_after_seconds("3") == 3
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = "Thu, 26 Nov 2026 16:30:30 GMT"
    assert retry_after_seconds(later, now=NOW) == 30
    assert retry_after_seconds(later, now=NOW + timedelta(hours=1)) == 0
    assert [backoff_delay(n, base=1, cap=10) for n in range(6)] == [1, 2, 4, 8, 10, 10]


# --- Settings --------------------------------------------------------------------------------


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_INGESTION_URL", "http://alert-ingestion:8001/")
    monkeypatch.setenv("PLATFORM_INTEGRATION_KEY", "key")
    monkeypatch.setenv("PLATFORM_API_TOKEN", "s3cr3t-responder")
    monkeypatch.setenv("INCIDENT_NAMESPACE", "incidents")
    monkeypatch.setenv("FEED_POLL_INTERVAL_SECONDS", "2.5")
    config = Config()
    assert config.alert_ingestion_url == "http://alert-ingestion:8001"
    assert config.platform_integration_key.get_secret_value() == "key"
    assert config.incident_namespace == "incidents"
    assert config.feed_poll_interval_seconds == 2.5
    assert config.public_url == config.incident_management_url
    assert "s3cr3t" not in repr(config)


def test_settings_refuse_what_cannot_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLATFORM_INTEGRATION_KEY", raising=False)
    monkeypatch.delenv("PLATFORM_API_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="platform_integration_key"):
        Config()
    for field, value in (
        ("incident_namespace", "Not_A_Namespace"),
        ("alert_ingestion_url", "alert-ingestion:8001"),
        ("feed_poll_interval_seconds", 0),
    ):
        with pytest.raises(ValidationError, match=field):
            Config.model_validate(
                {"platform_integration_key": "k", "platform_api_token": "t", field: value}
            )
