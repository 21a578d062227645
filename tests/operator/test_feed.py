"""The incident feed follower against the real services and the emulated Kubernetes API."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import kopf
import pytest

from incident_operator.alert import alert_create
from incident_operator.feed import FeedFollower
from incident_operator.runtime import Runtime
from incident_operator.settings import Config
from support.database import wait_until_feed_final
from support.operator import (
    NAMESPACE,
    Problems,
    alert_object,
    db_rows,
    deliver,
)
from support.platform import Platform
from support.services import free_port

pytestmark = pytest.mark.asyncio


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
