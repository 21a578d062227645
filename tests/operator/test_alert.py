"""The Alert handlers called directly (they are plain functions) against the real services."""

from __future__ import annotations

import kopf
import pytest

from incident_operator.alert import alert_create, alert_delete, alert_resume, alert_update
from incident_operator.clients.core import PlatformUnavailable
from incident_operator.incident import incident_state_changed
from incident_operator.runtime import Runtime
from incident_operator.settings import Config
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
from support.services import free_port

pytestmark = pytest.mark.asyncio


async def test_create_reports_the_incident(
    memo: kopf.Memo, platform: Platform, crd_problems: Problems
) -> None:
    obj = alert_object()
    patch = await deliver(alert_create, obj, memo)
    status = patch.status
    assert status["phase"] == "Correlated"
    assert status["action"] == "created"
    incident_id = status["incidentId"]
    assert status["incidentRef"] == f"inc-{incident_id}"
    assert status["fingerprint"] == "k8s:shop/checkout-errors"
    assert status["observedGeneration"] == 1
    assert status["conditions"][0]["status"] == "True"
    assert crd_problems(after(obj, patch)) == []
    ((fingerprint, service, state),) = db_rows(
        platform, "SELECT fingerprint, service, status FROM alerts WHERE incident_id = %s",
        incident_id,
    )  # fmt: skip
    assert (fingerprint, service, state) == ("k8s:shop/checkout-errors", "checkout", "firing")


async def test_the_same_object_again_is_a_duplicate(memo: kopf.Memo, platform: Platform) -> None:
    obj = alert_object(fingerprint="checkout-5xx")
    first = await deliver(alert_create, obj, memo)
    again = await deliver(alert_resume, after(obj, first), memo)  # e.g. after a restart
    assert again.status["action"] == "deduplicated"
    assert again.status["incidentId"] == first.status["incidentId"]
    assert again.status["alertId"] == first.status["alertId"]
    assert db_rows(platform, "SELECT count(*), max(occurrences) FROM alerts") == [(1, 2)]
    assert db_rows(platform, "SELECT count(*) FROM incidents") == [(1,)]


async def test_another_alert_of_the_service_attaches(memo: kopf.Memo, platform: Platform) -> None:
    first = await deliver(alert_create, alert_object("a"), memo)
    second = await deliver(alert_create, alert_object("b", summary="latency"), memo)
    assert second.status["action"] == "attached"
    assert second.status["incidentId"] == first.status["incidentId"]
    assert db_rows(platform, "SELECT alert_count FROM incidents") == [(2,)]


async def test_spec_state_resolved_resolves(
    memo: kopf.Memo, platform: Platform, crd_problems: Problems
) -> None:
    obj = alert_object()
    created = after(obj, await deliver(alert_create, obj, memo))
    resolved_obj = {
        **created,
        "metadata": {**created["metadata"], "generation": 2},
        "spec": {**created["spec"], "state": "resolved"},
    }
    patch = await deliver(alert_update, resolved_obj, memo)
    assert patch.status["phase"] == "Resolved"
    assert patch.status["action"] == "resolved"
    assert patch.status["observedGeneration"] == 2
    assert crd_problems(after(resolved_obj, patch)) == []
    incident_id = created["status"]["incidentId"]
    # The incident's only alert resolved: the platform auto-resolves it.
    assert db_rows(platform, "SELECT status FROM incidents WHERE id = %s", incident_id) == [
        ("resolved",)
    ]


async def test_deleting_resolves_on_the_platform_first(memo: kopf.Memo, platform: Platform) -> None:
    obj = alert_object()
    created = after(obj, await deliver(alert_create, obj, memo))
    await deliver(alert_delete, created, memo)
    assert db_rows(platform, "SELECT status FROM alerts") == [("resolved",)]
    assert db_rows(platform, "SELECT status FROM incidents") == [("resolved",)]


async def test_an_invalid_spec_fails_permanently_with_the_services_message(
    memo: kopf.Memo, platform: Platform, crd_problems: Problems
) -> None:
    obj = alert_object(summary="   ")
    patch = kopf.Patch()
    with pytest.raises(kopf.PermanentError, match="summary"):
        await alert_create(body=body_of(obj), patch=patch, memo=memo, logger=LOGGER, retry=0)
    assert patch.status["phase"] == "Failed"
    (ready,) = patch.status["conditions"]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "False", "Rejected")
    assert "summary" in ready["message"]
    assert "blank" in ready["message"]
    assert crd_problems(after(alert_object(), patch)) == []
    assert db_rows(platform, "SELECT count(*) FROM alerts") == [(0,)]
    # Deleting the never-accepted alert has nothing to resolve and does not block.
    await deliver(alert_delete, after(obj, patch), memo)


async def test_platform_down_is_temporary_with_a_visible_condition(
    operator_config: Config, crd_problems: Problems
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    down = operator_config.model_copy(
        update={"alert_ingestion_url": closed, "incident_management_url": closed}
    )
    runtime = Runtime.create(down)
    memo = kopf.Memo(runtime=runtime)
    try:
        obj = alert_object()
        patch = kopf.Patch()
        with pytest.raises(kopf.TemporaryError) as caught:
            await alert_create(body=body_of(obj), patch=patch, memo=memo, logger=LOGGER, retry=2)
        assert isinstance(caught.value, PlatformUnavailable)
        assert caught.value.delay == 2.0  # backoff: 0.5 s doubled per retry, capped at 2 s
        assert patch.status["phase"] == "Pending"
        assert patch.status["conditions"][0]["reason"] == "PlatformUnavailable"
        assert crd_problems(after(obj, patch)) == []

        for handler in (alert_delete, incident_state_changed):
            target = obj if handler is alert_delete else incident_object(1, state="resolved")
            with pytest.raises(kopf.TemporaryError):
                await deliver(handler, target, memo)
    finally:
        await runtime.aclose()
