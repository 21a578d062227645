import uuid

import pytest

from incident_platform.alert.alertmanager import AlertmanagerAlert, to_signal
from incident_platform.alert.correlation import AlertStatus
from incident_platform.auth.rules import IntegrationIdentity, IntegrationKind
from incident_platform.severity import Severity


def integration(default_service: str | None = None) -> IntegrationIdentity:
    return IntegrationIdentity(uuid.uuid4(), "am", IntegrationKind.ALERTMANAGER, default_service)


def am_alert(**labels: str) -> AlertmanagerAlert:
    return AlertmanagerAlert.model_validate(
        {
            "status": "firing",
            "labels": labels,
            "annotations": {"summary": "Disk full"},
            "startsAt": "2026-11-26T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "abc123",
        }
    )


@pytest.mark.parametrize(
    ("labels", "default", "expected"),
    [
        ({"service": "svc", "job": "job", "alertname": "A"}, "dflt", "svc"),
        ({"job": "job", "alertname": "A"}, "dflt", "job"),
        ({"alertname": "A"}, "dflt", "dflt"),
        ({"alertname": "A"}, None, "A"),
    ],
)
def test_service_comes_from_service_then_job_then_default_then_alertname(
    labels: dict[str, str], default: str | None, expected: str
) -> None:
    assert to_signal(am_alert(**labels), integration(default)).service == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("critical", Severity.CRITICAL),
        ("page", Severity.CRITICAL),
        ("error", Severity.HIGH),
        ("warning", Severity.WARNING),
        ("info", Severity.INFO),
        ("bogus", Severity.WARNING),
        ("", Severity.WARNING),
    ],
)
def test_severity_label_maps_onto_ours(label: str, expected: Severity) -> None:
    assert to_signal(am_alert(alertname="A", severity=label), integration()).severity == expected


def test_zero_end_time_means_still_firing_and_fingerprint_is_alertmanagers() -> None:
    signal = to_signal(am_alert(alertname="A"), integration())
    assert signal.ends_at is None
    assert signal.status is AlertStatus.FIRING
    assert signal.fingerprint == "am:abc123"
    assert signal.summary == "Disk full"
