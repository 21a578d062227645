"""Silence objects: the handlers called directly against the real ingestion service, and the
whole operator under ``KopfRunner`` with the emulated Kubernetes API: a Silence applied mutes
the alerts it matches on the platform, and deleting it expires the silence."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
import kopf
import pytest

from incident_operator.clients.core import PlatformRejected, PlatformUnavailable
from incident_operator.runtime import Runtime
from incident_operator.settings import Config
from incident_operator.silence import (
    silence_create,
    silence_delete,
    silence_refresh,
    silence_resume,
    silence_update,
)
from support.database import connect
from support.operator import (
    LOGGER,
    Problems,
    RunOperator,
    call,
    eventually,
    failing,
    ready,
    send_alert,
)
from support.platform import Platform
from support.services import free_port

SILENCES = "/apis/incident-platform.io/v1alpha1/namespaces/shop/silences"


def silence_object(name: str = "checkout-maintenance", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "incident-platform.io/v1alpha1",
        "kind": "Silence",
        "metadata": {"name": name, "namespace": "shop", "generation": 1},
        "spec": {
            "matchers": [{"name": "service", "value": "checkout"}],
            "duration": "2h",
            "comment": "database migration",
            **spec,
        },
    }


def platform_silence(platform: Platform, silence_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{platform.ingestion.url}/api/v2/silence/{silence_id}", headers=platform.admin()
    )
    assert response.status_code == 200, response.text
    return cast(dict[str, Any], response.json())


def platform_silences(platform: Platform) -> list[dict[str, Any]]:
    response = httpx.get(f"{platform.ingestion.url}/api/v2/silences", headers=platform.admin())
    assert response.status_code == 200, response.text
    return cast(list[dict[str, Any]], response.json())


def expire_on_platform(platform: Platform, silence_id: str) -> None:
    response = httpx.delete(
        f"{platform.ingestion.url}/api/v2/silence/{silence_id}", headers=platform.admin()
    )
    assert response.status_code == 200, response.text


def alert_row(platform: Platform, alert_id: int) -> tuple[Any, ...]:
    with connect(platform.database_url) as connection:
        row = connection.execute(
            "SELECT incident_id, silence_id FROM alerts WHERE id = %s", (alert_id,)
        ).fetchone()
    assert row is not None
    return tuple(row)


# --- The handlers, called directly ----------------------------------------------------------


@pytest.mark.asyncio
async def test_create_update_and_resume_keep_one_silence(
    memo: kopf.Memo, platform: Platform, operator_key: str, crd_problems: Problems
) -> None:
    obj, _ = await call(silence_create, silence_object(), memo)
    assert crd_problems(obj) == []
    silence_id = obj["status"]["silenceID"]
    assert obj["status"]["state"] == "active"
    assert ready(obj)["reason"] == "Active"
    stored = platform_silence(platform, silence_id)
    assert stored["status"]["state"] == "active"
    assert stored["matchers"] == [
        {"name": "service", "value": "checkout", "isRegex": False, "isEqual": True}
    ]
    assert stored["createdBy"] == "incident-operator"
    assert stored["comment"] == "database migration"
    ends = datetime.fromisoformat(stored["endsAt"].replace("Z", "+00:00"))
    starts = datetime.fromisoformat(stored["startsAt"].replace("Z", "+00:00"))
    assert ends - starts == timedelta(hours=2)
    assert send_alert(platform, operator_key, "checkout")["action"] == "silenced"

    # An edit changes the same silence; a resume re-sends it: still one silence.
    edited = {**obj, "spec": {**obj["spec"], "comment": "migration, second attempt"}}
    edited["metadata"] = {**obj["metadata"], "generation": 2}
    edited, _ = await call(silence_update, edited, memo)
    assert edited["status"]["silenceID"] == silence_id
    assert edited["status"]["observedGeneration"] == 2
    assert platform_silence(platform, silence_id)["comment"] == "migration, second attempt"
    resumed, _ = await call(silence_resume, edited, memo)
    assert resumed["status"]["silenceID"] == silence_id
    assert [s["id"] for s in platform_silences(platform)] == [silence_id]


@pytest.mark.asyncio
async def test_a_silence_the_platform_forgot_is_created_again(
    memo: kopf.Memo, platform: Platform
) -> None:
    forgotten = silence_object()
    forgotten["status"] = {"silenceID": str(uuid.uuid4()), "state": "active"}
    obj, _ = await call(silence_update, forgotten, memo)
    new_id = obj["status"]["silenceID"]
    assert new_id != forgotten["status"]["silenceID"]
    assert [s["id"] for s in platform_silences(platform)] == [new_id]


@pytest.mark.asyncio
async def test_a_refused_silence_fails_permanently_with_the_platforms_message(
    memo: kopf.Memo, platform: Platform, crd_problems: Problems
) -> None:
    bad = silence_object(matchers=[{"name": "service", "value": "(checkout", "isRegex": True}])
    obj, error = await failing(silence_create, bad, memo, PlatformRejected)
    assert isinstance(error, kopf.PermanentError)
    assert ready(obj)["status"] == "False"
    assert ready(obj)["reason"] == "Rejected"
    assert "value" in obj["status"]["message"]
    assert obj["status"]["message"] == cast(PlatformRejected, error).message
    assert crd_problems(obj) == []
    assert platform_silences(platform) == []


@pytest.mark.asyncio
async def test_a_spec_that_is_no_silence_fails_permanently(
    memo: kopf.Memo, platform: Platform
) -> None:
    obj, error = await failing(
        silence_create, silence_object(duration="0s"), memo, kopf.PermanentError
    )
    assert not isinstance(error, PlatformRejected)  # refused here, never sent
    assert ready(obj)["reason"] == "InvalidSpec"
    assert obj["status"]["message"] == "spec.duration: must be longer than zero"
    assert platform_silences(platform) == []


@pytest.mark.asyncio
async def test_platform_down_is_temporary_with_a_visible_condition(
    operator_config: Config,
) -> None:
    down = Config.model_validate(
        {**operator_config.model_dump(), "alert_ingestion_url": f"http://127.0.0.1:{free_port()}"}
    )
    runtime = Runtime.create(down)
    try:
        obj, error = await failing(
            silence_create, silence_object(), kopf.Memo(runtime=runtime), PlatformUnavailable
        )
    finally:
        await runtime.aclose()
    assert isinstance(error, kopf.TemporaryError)
    assert cast(PlatformUnavailable, error).delay == down.retry_delay_seconds
    assert ready(obj)["reason"] == "PlatformUnavailable"
    assert "silenceID" not in obj["status"]


@pytest.mark.asyncio
async def test_delete_expires_and_a_missing_silence_is_already_gone(
    memo: kopf.Memo, platform: Platform, operator_key: str
) -> None:
    obj, _ = await call(silence_create, silence_object(), memo)
    silence_id = obj["status"]["silenceID"]
    muted = send_alert(platform, operator_key, "checkout")
    assert muted["action"] == "silenced"
    await call(silence_delete, obj, memo)
    assert platform_silence(platform, silence_id)["status"]["state"] == "expired"
    # The alert it muted still fires: it is correlated now, as Alertmanager notifies then.
    incident_id, _ = alert_row(platform, muted["alert_id"])
    assert incident_id is not None
    gone = {**obj, "status": {**obj["status"], "silenceID": str(uuid.uuid4())}}
    await call(silence_delete, gone, memo)  # 404: already gone, the object may go
    await call(silence_delete, silence_object(), memo)  # never synced: nothing to expire


@pytest.mark.asyncio
async def test_the_timer_reads_the_state_back(memo: kopf.Memo, platform: Platform) -> None:
    obj, _ = await call(silence_create, silence_object(), memo)
    silence_id = obj["status"]["silenceID"]
    unchanged = kopf.Patch()
    await silence_refresh(
        body=kopf.Body(cast(kopf.RawBody, obj)), patch=unchanged, memo=memo, logger=LOGGER
    )
    assert not unchanged  # still active: no write
    # Expired behind the operator's back, as `amtool silence expire` does.
    expire_on_platform(platform, silence_id)
    obj, _ = await call(silence_refresh, obj, memo)
    assert obj["status"]["state"] == "expired"
    assert ready(obj)["reason"] == "Expired"


# --- The whole operator -------------------------------------------------------------------


def test_a_silence_applied_mutes_and_its_deletion_expires(
    run_operator: RunOperator,
    kube: httpx.Client,
    platform: Platform,
    operator_key: str,
    crd_problems: Problems,
) -> None:
    obj = silence_object()
    del obj["metadata"]["generation"]
    with run_operator():
        created = kube.post(SILENCES, json=obj)
        assert created.status_code in (200, 201), created.text
        path = f"{SILENCES}/{obj['metadata']['name']}"

        def synced() -> dict[str, Any] | None:
            found = kube.get(path).json()
            return found if (found.get("status") or {}).get("silenceID") else None

        applied = eventually(synced, "the Silence to be synced")
        assert crd_problems(applied) == []
        assert applied["metadata"]["finalizers"] == ["incident-platform.io/operator"]
        silence_id = applied["status"]["silenceID"]
        assert platform_silence(platform, silence_id)["status"]["state"] == "active"
        muted = send_alert(platform, operator_key, "checkout")
        assert muted["action"] == "silenced"
        assert muted["incident_id"] is None
        assert send_alert(platform, operator_key, "payments")["action"] == "created"

        assert kube.delete(path).status_code == 200
        eventually(lambda: kube.get(path).status_code == 404, "the Silence to be released")
    assert platform_silence(platform, silence_id)["status"]["state"] == "expired"
    incident_id, muted_by = alert_row(platform, muted["alert_id"])
    assert incident_id is not None
    assert str(muted_by) == silence_id
    assert send_alert(platform, operator_key, "checkout")["action"] == "deduplicated"
