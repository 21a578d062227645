"""The handlers called directly (they are plain functions) against the real services, and the
incident feed follower against the real services and the emulated Kubernetes API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

import httpx
import kopf
import pytest

from incident_operator.alert import alert_create, alert_delete, alert_resume, alert_update
from incident_operator.builders import apply_merge_patch
from incident_operator.client import PlatformUnavailable
from incident_operator.feed import FeedFollower
from incident_operator.incident import incident_state_changed
from incident_operator.kube import KubeClient
from incident_operator.runtime import Runtime
from incident_operator.settings import Config
from support.database import connect, wait_until_feed_final
from support.platform import Platform
from support.services import free_port

LOGGER = logging.getLogger("tests.operator")
NAMESPACE = "incident-platform"
Problems = Callable[[Mapping[str, Any]], list[str]]
pytestmark = pytest.mark.asyncio


def alert_object(name: str = "checkout-errors", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "incident-platform.io/v1alpha1",
        "kind": "Alert",
        "metadata": {"name": name, "namespace": "shop", "generation": 1},
        "spec": {"service": "checkout", "summary": "5xx above 5%", "severity": "high", **spec},
    }


def incident_object(incident_id: int, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "incident-platform.io/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": f"inc-{incident_id}", "namespace": NAMESPACE, "generation": 2},
        "spec": {"incidentId": incident_id, **spec},
    }


def body_of(obj: Mapping[str, Any]) -> kopf.Body:
    return kopf.Body(cast(kopf.RawBody, dict(obj)))


def after(obj: Mapping[str, Any], patch: kopf.Patch) -> dict[str, Any]:
    """The object once kopf applied the handler's patch (what the next call would see)."""
    patched: dict[str, Any] = apply_merge_patch(obj, dict(patch))
    return patched


def db_rows(platform: Platform, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with connect(platform.database_url) as connection:
        return list(connection.execute(sql, args).fetchall())


async def deliver(
    handler: Callable[..., Any], obj: Mapping[str, Any], memo: kopf.Memo
) -> kopf.Patch:
    patch = kopf.Patch()
    await handler(body=body_of(obj), patch=patch, memo=memo, logger=LOGGER, retry=0)
    return patch


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


# --- The feed follower -----------------------------------------------------------------------


def mirrors(kube: httpx.Client) -> dict[str, dict[str, Any]]:
    listing = kube.get(f"/apis/incident-platform.io/v1alpha1/namespaces/{NAMESPACE}/incidents")
    assert listing.status_code == 200, listing.text
    return {item["metadata"]["name"]: item for item in listing.json()["items"]}


def follower(config: Config, connection: kopf.ConnectionInfo) -> FeedFollower:
    runtime = Runtime.create(config)
    runtime.connect(connection)
    return runtime.feed


async def test_the_feed_mirrors_every_incident_once(
    operator_config: Config,
    kube_connection: kopf.ConnectionInfo,
    kube: httpx.Client,
    platform: Platform,
    memo: kopf.Memo,
    crd_problems: Problems,
) -> None:
    config = operator_config.model_copy(update={"feed_page_size": 2})
    # Three incidents from three services, one of them from outside Kubernetes.
    for service in ("checkout", "search"):
        await deliver(alert_create, alert_object(service, service=service), memo)
    key = config.platform_integration_key.get_secret_value()
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as client:
        curl = await client.post(
            platform.ingestion.url + "/api/v1/alerts",
            json={"service": "billing", "summary": "invoices stuck", "severity": "warning"},
        )
    assert curl.status_code == 202, curl.text

    wait_until_feed_final(platform.database_url)
    feed = follower(config, kube_connection)
    try:
        await feed.sync()
    finally:
        await feed.platform.aclose()
    found = mirrors(kube)
    assert sorted(found) == ["inc-1", "inc-2", "inc-3"]
    assert found["inc-3"]["status"]["service"] == "billing"
    assert found["inc-3"]["status"]["status"] == "triggered"
    for obj in found.values():
        assert crd_problems(obj) == [], obj
    (max_seq,) = db_rows(platform, "SELECT max(change_seq) FROM incidents")[0]
    assert feed.state.cursor == max_seq
    assert feed.state.mirrors_written == 3

    # A change on the platform: the next tick patches only that mirror.
    token = config.platform_api_token.get_secret_value()
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        acked = await client.post(platform.incidents.url + "/api/v1/incidents/2/acknowledge")
    assert acked.status_code == 200, acked.text
    wait_until_feed_final(platform.database_url)
    feed2 = follower(config, kube_connection)  # a restarted operator
    try:
        await feed2.sync()
        assert feed2.state.mirrors_written == 1  # the others already showed their last change
        await feed2.sync()
        assert feed2.state.mirrors_written == 1  # nothing new
    finally:
        await feed2.platform.aclose()
    found = mirrors(kube)
    assert sorted(found) == ["inc-1", "inc-2", "inc-3"]
    assert found["inc-2"]["status"]["status"] == "acknowledged"
    assert found["inc-2"]["status"]["timeToAcknowledgeSeconds"] >= 0


async def test_the_feed_recreates_a_deleted_mirror_and_fills_an_empty_one(
    operator_config: Config,
    kube_connection: kopf.ConnectionInfo,
    kube: httpx.Client,
    memo: kopf.Memo,
    platform: Platform,
) -> None:
    await deliver(alert_create, alert_object("a", service="a"), memo)
    await deliver(alert_create, alert_object("b", service="b"), memo)
    wait_until_feed_final(platform.database_url)
    feed = follower(operator_config, kube_connection)
    try:
        await feed.sync()
    finally:
        await feed.platform.aclose()
    base = f"/apis/incident-platform.io/v1alpha1/namespaces/{NAMESPACE}/incidents"
    async with httpx.AsyncClient(base_url=kube.base_url) as kubectl:
        assert (await kubectl.delete(f"{base}/inc-1")).status_code == 200
        emptied = await kubectl.patch(
            f"{base}/inc-2/status",
            json={"status": {"changeSeq": None, "status": None}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert emptied.status_code == 200

    restarted = follower(operator_config, kube_connection)
    try:
        await restarted.sync()
    finally:
        await restarted.platform.aclose()
    found = mirrors(kube)
    assert sorted(found) == ["inc-1", "inc-2"]
    assert all(obj["status"]["status"] == "triggered" for obj in found.values())


async def test_one_refused_mirror_does_not_hold_up_the_others(
    operator_config: Config,
    kube_connection: kopf.ConnectionInfo,
    kube: httpx.Client,
    kube_api: Any,
    platform: Platform,
    memo: kopf.Memo,
) -> None:
    for service in ("a", "b", "c"):
        await deliver(alert_create, alert_object(service, service=service), memo)
    # An admission policy refuses the status of inc-2, and only that object.
    base = f"/apis/incident-platform.io/v1alpha1/namespaces/{NAMESPACE}/incidents"
    kube_api.refuse(f"patch {base}/inc-2/status", 422, "denied by policy")
    feed = follower(operator_config, kube_connection)
    try:
        await feed.sync()
        found = mirrors(kube)
        assert found["inc-1"]["status"]["status"] == "triggered"
        assert found["inc-3"]["status"]["status"] == "triggered"  # after the broken one
        report = feed.state.report()
        assert list(cast(dict[str, str], report["brokenMirrors"])) == ["2"]
        assert "denied by policy" in cast(dict[str, str], report["brokenMirrors"])["2"]
        assert report["lastError"] is None  # the feed itself is healthy
        (max_seq,) = db_rows(platform, "SELECT max(change_seq) FROM incidents")[0]
        assert feed.state.cursor == max_seq
    finally:
        await feed.platform.aclose()


async def test_the_feed_outlives_an_outage(
    operator_config: Config, kube_connection: kopf.ConnectionInfo
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    config = operator_config.model_copy(update={"incident_management_url": closed})
    feed = follower(config, kube_connection)
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        for _ in range(200):
            if feed.state.last_error is not None:
                break
            await asyncio.sleep(0.05)
        assert feed.state.last_error is not None
        assert "ConnectError" in feed.state.last_error
        assert not task.done()  # still following, backing off
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await feed.platform.aclose()


async def test_kube_client_creates_idempotently(
    kube_connection: kopf.ConnectionInfo, kube: httpx.Client
) -> None:
    client = KubeClient(kube_connection)
    try:
        obj = incident_object(5)
        del obj["metadata"]["generation"]
        assert await client.create_incident(obj) is True
        assert await client.create_incident(obj) is False  # 409 AlreadyExists: fine
        assert [o["metadata"]["name"] for o in await client.list_incidents(NAMESPACE)] == ["inc-5"]
    finally:
        await client.aclose()
