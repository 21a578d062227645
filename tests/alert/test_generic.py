import uuid
from datetime import UTC, datetime

from incident_platform.alert.correlation import AlertStatus
from incident_platform.alert.fingerprint import derive_fingerprint
from incident_platform.alert.generic import to_signal
from incident_platform.alert.models import AlertCreate
from incident_platform.auth.rules import IntegrationIdentity, IntegrationKind
from incident_platform.severity import Severity

SENDER = IntegrationIdentity(uuid.uuid4(), "script", IntegrationKind.GENERIC, None)


def test_a_posted_alert_becomes_a_signal_field_for_field() -> None:
    body = AlertCreate.model_validate(
        {
            "service": " checkout ",
            "summary": "Checkout down",
            "severity": "critical",
            "status": "resolved",
            "fingerprint": "chk-1",
            "source": "cron",
            "description": "5xx above 50%",
            "labels": {"region": "eu"},
            "annotations": {"runbook": "https://runbooks/checkout"},
            "starts_at": "2026-12-01T10:00:00Z",
        }
    )
    signal = to_signal(body, SENDER)
    assert signal.fingerprint == "chk-1"
    assert (signal.service, signal.summary) == ("checkout", "Checkout down")
    assert signal.severity is Severity.CRITICAL
    assert signal.status is AlertStatus.RESOLVED
    assert (signal.source, signal.description) == ("cron", "5xx above 50%")
    assert signal.labels == {"region": "eu"}
    assert signal.annotations == {"runbook": "https://runbooks/checkout"}
    assert signal.starts_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert signal.ends_at is None
    assert signal.integration_id == SENDER.id


def test_without_a_fingerprint_the_same_alert_gets_the_same_one() -> None:
    body = AlertCreate(service="db", summary="Replica lag", labels={"replica": "2"})
    first, again = to_signal(body, SENDER), to_signal(body.model_copy(), SENDER)
    assert (
        first.fingerprint
        == again.fingerprint
        == derive_fingerprint("db", "Replica lag", {"replica": "2"})
    )
    other = to_signal(AlertCreate(service="db", summary="Replica lag"), SENDER)
    assert other.fingerprint != first.fingerprint
