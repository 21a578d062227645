"""The Incident handler called directly against the real services: ``spec.state`` acts."""

from __future__ import annotations

import kopf
import pytest

from incident_operator.alert import alert_create
from incident_operator.incident import incident_state_changed
from support.operator import (
    LOGGER,
    Problems,
    after,
    alert_object,
    body_of,
    db_rows,
    deliver,
    incident_object,
)
from support.platform import Platform

pytestmark = pytest.mark.asyncio


async def open_incident(memo: kopf.Memo, name: str = "checkout-errors") -> int:
    patch = await deliver(alert_create, alert_object(name), memo)
    incident_id: int = patch.status["incidentId"]
    return incident_id


async def test_acknowledging_through_spec_state(
    memo: kopf.Memo, platform: Platform, crd_problems: Problems
) -> None:
    incident_id = await open_incident(memo)
    obj = incident_object(incident_id, state="acknowledged", note="on it")
    patch = await deliver(incident_state_changed, obj, memo)
    assert db_rows(platform, "SELECT status FROM incidents WHERE id = %s", incident_id) == [
        ("acknowledged",)
    ]
    notes = db_rows(
        platform, "SELECT message FROM timeline_events WHERE kind = 'note' AND incident_id = %s",
        incident_id,
    )  # fmt: skip
    assert notes == [("on it",)]
    assert patch.status["status"] == "acknowledged"
    assert patch.status["acknowledgedAt"]
    (synced,) = patch.status["conditions"]
    assert (synced["type"], synced["status"], synced["reason"]) == (
        "Synced",
        "True",
        "Acknowledged",
    )
    assert crd_problems(after(obj, patch)) == []

    # Asking again when the platform already is there is success, not an error.
    again = await deliver(incident_state_changed, after(obj, patch), memo)
    assert again.status["conditions"][0]["reason"] == "AlreadyInState"
    assert again.status["conditions"][0]["status"] == "True"


async def test_an_illegal_transition_is_a_condition_not_a_retry(
    memo: kopf.Memo, platform: Platform, crd_problems: Problems
) -> None:
    incident_id = await open_incident(memo)
    await deliver(incident_state_changed, incident_object(incident_id, state="resolved"), memo)
    obj = incident_object(incident_id, state="acknowledged")
    patch = await deliver(incident_state_changed, obj, memo)  # returns: nothing to retry
    (synced,) = patch.status["conditions"]
    assert (synced["status"], synced["reason"]) == ("False", "IllegalTransition")
    assert synced["message"] == "cannot acknowledge an incident that is resolved"
    assert crd_problems(after(obj, patch)) == []
    assert db_rows(platform, "SELECT status FROM incidents") == [("resolved",)]


async def test_an_unknown_incident_is_refused_permanently(memo: kopf.Memo) -> None:
    patch = kopf.Patch()
    body = body_of(incident_object(999, state="acknowledged"))
    with pytest.raises(kopf.PermanentError, match="not found"):
        await incident_state_changed(body=body, patch=patch, memo=memo, logger=LOGGER)
    assert patch.status["conditions"][0]["reason"] == "Rejected"


async def test_without_a_requested_state_nothing_happens(memo: kopf.Memo) -> None:
    patch = await deliver(incident_state_changed, incident_object(1), memo)
    assert not patch
