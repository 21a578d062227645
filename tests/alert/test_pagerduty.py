"""PagerDuty Events API v2 events to alert signals: the contract's checks, where the service
and severity come from, what becomes labels and annotations, and resolve events."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from incident_platform.alert.correlation import AlertStatus
from incident_platform.alert.pagerduty import Event, error_messages, fingerprint_of, to_signal
from incident_platform.auth.rules import IntegrationIdentity, IntegrationKind
from incident_platform.severity import Severity

INTEGRATION = IntegrationIdentity(uuid.uuid4(), "pd", IntegrationKind.PAGERDUTY, None)


def integration(default_service: str | None) -> IntegrationIdentity:
    return IntegrationIdentity(INTEGRATION.id, "pd", IntegrationKind.PAGERDUTY, default_service)


def trigger(**payload: Any) -> Event:
    return Event.model_validate(
        {
            "routing_key": "rk",
            "event_action": "trigger",
            "payload": {"summary": "Disk full", "source": "db-1", "severity": "error", **payload},
        }
    )


def test_a_trigger_needs_a_payload_and_the_others_a_dedup_key() -> None:
    with pytest.raises(ValidationError) as no_payload:
        Event.model_validate({"routing_key": "rk", "event_action": "trigger"})
    with pytest.raises(ValidationError) as no_key:
        Event.model_validate({"routing_key": "rk", "event_action": "acknowledge"})

    assert error_messages(no_payload.value) == [
        "event: Value error, payload is required for a trigger event"
    ]
    assert error_messages(no_key.value) == [
        "event: Value error, dedup_key is required for a acknowledge event"
    ]


def test_errors_name_the_field_as_pagerduty_does() -> None:
    with pytest.raises(ValidationError) as bad:
        trigger(severity="fatal", summary="")

    messages = error_messages(bad.value)
    assert any(m.startswith("payload.severity: ") for m in messages), messages
    assert any(m.startswith("payload.summary: ") for m in messages), messages


@pytest.mark.parametrize(
    ("payload", "default", "expected"),
    [
        ({"component": "checkout"}, "dflt", "checkout"),
        ({}, "dflt", "dflt"),
        ({}, None, "db-1"),
        ({"component": "  padded  "}, None, "padded"),
    ],
)
def test_service_comes_from_component_then_default_then_source(
    payload: dict[str, Any], default: str | None, expected: str
) -> None:
    assert to_signal(trigger(**payload), "k", integration(default)).service == expected


@pytest.mark.parametrize(
    ("given", "severity"),
    [
        ("critical", Severity.CRITICAL),
        ("error", Severity.HIGH),
        ("warning", Severity.WARNING),
        ("info", Severity.INFO),
    ],
)
def test_severities_map_to_the_platforms(given: str, severity: Severity) -> None:
    assert to_signal(trigger(severity=given), "k", INTEGRATION).severity is severity


def test_a_trigger_becomes_a_firing_signal_with_labels_and_annotations() -> None:
    event = Event.model_validate(
        {
            "routing_key": "rk",
            "event_action": "trigger",
            "client_url": "https://grafana.example.test/d/1",
            "payload": {
                "summary": "Disk full",
                "source": "db-1",
                "severity": "critical",
                "timestamp": "2026-03-01T12:00:00Z",
                "group": "storage",
                "class": "disk",
                "custom_details": {"free": "0%"},
                "unknown": "ignored",
            },
        }
    )

    signal = to_signal(event, "my-key", INTEGRATION)

    assert signal.fingerprint == fingerprint_of("my-key") == "pd:my-key"
    assert (signal.status, signal.source, signal.summary) == (
        AlertStatus.FIRING,
        "pagerduty",
        "Disk full",
    )
    assert signal.labels == {"source": "db-1", "group": "storage", "class": "disk"}
    assert signal.annotations == {
        "custom_details": {"free": "0%"},
        "client_url": "https://grafana.example.test/d/1",
    }
    assert signal.description is None, "structured details are not a description"
    assert signal.starts_at == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert signal.integration_id == INTEGRATION.id


def test_text_details_are_the_description_bounded_to_the_column() -> None:
    signal = to_signal(trigger(custom_details="x" * 10_000), "k", INTEGRATION)

    assert signal.description == "x" * 8192
    assert signal.annotations == {"custom_details": "x" * 10_000}


def test_a_resolve_names_only_its_dedup_key() -> None:
    event = Event.model_validate(
        {"routing_key": "rk", "event_action": "resolve", "dedup_key": "my-key"}
    )

    signal = to_signal(event, "my-key", integration("checkout"))
    unrouted = to_signal(event, "my-key", INTEGRATION)

    assert (signal.fingerprint, signal.status, signal.service) == (
        "pd:my-key",
        AlertStatus.RESOLVED,
        "checkout",
    )
    assert signal.summary == "resolved by dedup_key my-key"
    assert unrouted.service == "unknown"


def test_long_dedup_keys_are_replaced_by_a_stable_digest() -> None:
    key = "k" * 400

    assert fingerprint_of(key) == fingerprint_of(key)
    assert fingerprint_of(key).startswith("pd#sha256:")
    assert len(fingerprint_of(key)) <= 255
