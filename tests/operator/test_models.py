"""The operator's reading of the services' answers: what the real services send parses,
fields the services add later are ignored, and the values cannot be changed after."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from incident_operator.models import IngestResult, PlatformIncident, PlatformSilence
from support.platform import Platform


def test_the_services_answers_parse_as_the_operator_reads_them(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
    platform: Platform,
) -> None:
    posted = ingest.post(
        "/api/v1/alerts",
        json={"service": "checkout", "summary": "5xx", "severity": "high"},
        headers=generic_auth,
    )
    result = IngestResult.model_validate(posted.json())
    incident = PlatformIncident.model_validate(
        incidents_api.get(f"/api/v1/incidents/{result.incident_id}").json()
    )
    now = datetime.now(UTC)
    created = ingest.post(
        "/api/v2/silences",
        json={
            "matchers": [{"name": "service", "value": "checkout", "isRegex": False}],
            "startsAt": (now - timedelta(minutes=1)).isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": "operator-test",
            "comment": "models",
        },
        headers=platform.admin(),
    )
    assert created.status_code == 200, created.text
    silence_id = created.json()["silenceID"]
    silence = PlatformSilence.model_validate(
        ingest.get(f"/api/v2/silence/{silence_id}", headers=platform.admin()).json()
    )

    assert result.action == "created"
    assert (incident.id, incident.service, incident.severity, incident.status) == (
        result.incident_id,
        "checkout",
        "high",
        "triggered",
    )
    assert incident.alert_count == 1
    assert (silence.id, silence.status.state) == (silence_id, "active")
    assert silence.startsAt < silence.endsAt


def test_unknown_fields_are_ignored_and_values_are_frozen() -> None:
    result = IngestResult.model_validate(
        {"alert_id": 1, "incident_id": 2, "action": "attached", "added_later": True}
    )

    assert result == IngestResult(alert_id=1, incident_id=2, action="attached")
    with pytest.raises(ValidationError):
        result.action = "resolved"  # type: ignore[misc]


def test_an_answer_outside_the_contract_is_refused() -> None:
    with pytest.raises(ValidationError):
        IngestResult.model_validate({"alert_id": 1, "incident_id": 2, "action": "exploded"})
