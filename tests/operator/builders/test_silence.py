"""Silence builders: every request built is validated against the ingestion service's own
``PostableSilence`` model (so the operator speaks Alertmanager API v2 as the platform does),
and every status patch against the CRD."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incident_operator.builders.silence import (
    parse_duration,
    silence_failure_status,
    silence_request,
    silence_state,
    silence_status,
    silence_window,
)
from incident_operator.builders.status import apply_merge_patch
from incident_platform.silence.models import PostableSilence
from support.operator import (
    Problems,
    example,
)

NOW = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)


def a_silence(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "incident-platform.io/v1alpha1",
        "kind": "Silence",
        "metadata": {
            "name": "checkout-maintenance",
            "namespace": "shop",
            "generation": 2,
            "creationTimestamp": "2026-12-05T20:00:00Z",
        },
        "spec": {"matchers": [{"name": "service", "value": "checkout"}], **spec},
    }


def test_durations_are_days_hours_minutes_seconds() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1d12h30m15s") == timedelta(days=1, hours=12, minutes=30, seconds=15)
    for bad in ("two hours", "", "h", "2x", "0s", "1h-5m"):
        with pytest.raises(ValueError, match=r"spec\.duration"):
            parse_duration(bad)


def test_the_window_starts_at_start_or_creation_and_ends_at_end_or_after_the_duration() -> None:
    start = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    assert silence_window(a_silence(startsAt="2026-12-05T22:00:00Z", duration="2h"), now=NOW) == (
        start,
        start + timedelta(hours=2),
    )
    explicit = a_silence(startsAt="2026-12-05T23:00:00+01:00", endsAt="2026-12-06T01:00:00Z")
    assert silence_window(explicit, now=NOW) == (start, start + timedelta(hours=3))
    # No start: the object's creation, so re-sending after a restart does not move the window.
    created = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    assert silence_window(a_silence(duration="1h"), now=NOW) == (
        created,
        created + timedelta(hours=1),
    )
    unsaved = a_silence(duration="1h")
    del unsaved["metadata"]["creationTimestamp"]
    assert silence_window(unsaved, now=NOW) == (NOW, NOW + timedelta(hours=1))
    with pytest.raises(ValueError, match="endsAt or duration"):
        silence_window(a_silence(), now=NOW)


def test_the_state_is_the_platforms_rule() -> None:
    start, end = NOW, NOW + timedelta(hours=1)
    assert silence_state(start, end, NOW - timedelta(seconds=1)) == "pending"
    assert silence_state(start, end, NOW) == "active"
    assert silence_state(start, end, end - timedelta(seconds=1)) == "active"
    assert silence_state(start, end, end) == "expired"


def test_the_request_is_alertmanagers_silence_with_the_crds_defaults() -> None:
    request = silence_request(a_silence(duration="2h"), now=NOW)
    assert request == {
        "matchers": [{"name": "service", "value": "checkout", "isRegex": False, "isEqual": True}],
        "startsAt": "2026-12-05T20:00:00+00:00",
        "endsAt": "2026-12-05T22:00:00+00:00",
        "createdBy": "incident-operator",
        "comment": "Silence shop/checkout-maintenance (Kubernetes)",
    }
    assert "id" not in request
    PostableSilence.model_validate(request)


def test_the_stored_id_makes_the_request_an_update() -> None:
    obj = a_silence(
        matchers=[
            {"name": "service", "value": "checkout|payments", "isRegex": True},
            {"name": "severity", "value": "info", "isEqual": False},
        ],
        endsAt="2026-12-06T00:00:00Z",
        comment="Database migration (CHG-1234)",
        createdBy="platform-team",
    )
    silence_id = "6f1f5bd6-57c5-4d53-9b41-0f3f1d1b8d2e"
    request = silence_request(obj, silence_id=silence_id, now=NOW)
    assert request["id"] == silence_id
    assert request["matchers"] == [
        {"name": "service", "value": "checkout|payments", "isRegex": True, "isEqual": True},
        {"name": "severity", "value": "info", "isRegex": False, "isEqual": False},
    ]
    assert request["comment"] == "Database migration (CHG-1234)"
    assert request["createdBy"] == "platform-team"
    parsed = PostableSilence.model_validate(request)
    assert str(parsed.id) == silence_id


def test_the_example_becomes_a_silence_the_platform_accepts() -> None:
    request = silence_request(example("silence.yaml"), now=NOW)
    parsed = PostableSilence.model_validate(request)
    assert [(m.name, m.value, m.isRegex, m.isEqual) for m in parsed.matchers] == [
        ("service", "checkout", False, True)
    ]
    assert parsed.endsAt - parsed.startsAt == timedelta(hours=2)
    assert parsed.createdBy == "platform-team"


def test_status_patches_fit_the_crd(crd_problems: Problems) -> None:
    obj = a_silence(duration="2h")
    start, end = silence_window(obj, now=NOW)
    synced = silence_status(obj, silence_id="abc", state="active", starts=start, ends=end, now=NOW)
    assert synced["silenceID"] == "abc"
    assert synced["state"] == "active"
    assert synced["endsAt"] == "2026-12-05T22:00:00Z"
    assert synced["observedGeneration"] == 2
    assert synced["conditions"][0]["reason"] == "Active"
    after_sync = apply_merge_patch(obj, {"status": synced})
    assert crd_problems(after_sync) == []

    failed = silence_failure_status(
        after_sync, "matchers.0: value: invalid regex", reason="Rejected", now=NOW
    )
    after_failure = apply_merge_patch(after_sync, {"status": failed})
    assert crd_problems(after_failure) == []
    assert after_failure["status"]["silenceID"] == "abc"  # the platform still has it
    (ready,) = after_failure["status"]["conditions"]
    assert (ready["status"], ready["reason"]) == ("False", "Rejected")
    assert after_failure["status"]["message"] == "matchers.0: value: invalid regex"

    expired = silence_status(
        after_failure, silence_id="abc", state="expired", starts=start, ends=end
    )
    assert crd_problems(apply_merge_patch(after_failure, {"status": expired})) == []
    assert crd_problems(apply_merge_patch(obj, {"status": {"state": "silenced"}}))
