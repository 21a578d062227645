"""The incident API's shapes: the list's plain-row path writes the JSON the model does,
and the derived durations."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from incident_platform.incident.lifecycle import IncidentStatus
from incident_platform.incident.models import (
    PUBLIC_COLUMNS,
    IncidentUpdate,
    NoteCreate,
    incident_public,
    public_fields,
    public_json,
    seconds_between,
)
from incident_platform.incident.tables import Incident
from incident_platform.severity import Severity

OPENED = datetime(2026, 11, 30, 9, 0, 0, 123456, tzinfo=UTC)


def _incident(**changes: object) -> Incident:
    fields: dict[str, Any] = {
        "id": 42,
        "title": "Checkout down",
        "service": "checkout",
        "severity": Severity.CRITICAL,
        "status": IncidentStatus.ACKNOWLEDGED,
        "assignee": "alice",
        "alert_count": 3,
        "group_key": "service:checkout",
        "grouping_rule": None,
        "accepts_alerts": True,
        "flapping": False,
        "change_seq": 7,
        "created_at": OPENED,
        "updated_at": OPENED + timedelta(minutes=5),
        "acknowledged_at": OPENED + timedelta(seconds=90, microseconds=4567),
        "resolved_at": None,
    }
    fields.update(changes)
    return Incident(**fields)


@pytest.mark.parametrize(
    "incident",
    [
        _incident(),
        _incident(status=IncidentStatus.TRIGGERED, assignee=None, acknowledged_at=None),
        _incident(
            status=IncidentStatus.RESOLVED,
            grouping_rule="by-cluster",
            group_key='rule:by-cluster/cluster="eu"',
            flapping=True,
            resolved_at=OPENED + timedelta(hours=2),
        ),
    ],
)
def test_a_plain_row_writes_the_same_json_as_the_model(incident: Incident) -> None:
    row = tuple(getattr(incident, column) for column in PUBLIC_COLUMNS)
    assert public_json(public_fields(row)) == public_json(incident_public(incident))


def test_durations_are_seconds_from_opening_rounded_to_the_millisecond() -> None:
    public = incident_public(_incident())
    assert public.time_to_acknowledge_seconds == 90.005
    assert public.time_to_resolve_seconds is None
    assert seconds_between(OPENED, OPENED - timedelta(seconds=1)) == -1.0


def test_an_update_may_not_blank_the_title_and_a_note_needs_text() -> None:
    with pytest.raises(ValidationError) as error:
        IncidentUpdate.model_validate({"title": ""})
    assert [item["loc"] for item in error.value.errors()] == [("title",)]
    assert IncidentUpdate.model_validate({"assignee": None}).model_dump(exclude_unset=True) == {
        "assignee": None
    }
    with pytest.raises(ValidationError):
        NoteCreate.model_validate({"text": ""})
    with pytest.raises(ValidationError):
        NoteCreate.model_validate({"text": "x" * 8193})
