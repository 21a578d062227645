"""The operator's own Kubernetes client against the emulated API server."""

from __future__ import annotations

import httpx
import kopf
import pytest

from incident_operator.crd import INCIDENTS, ONCALL_SCHEDULES
from incident_operator.kube import KubeClient, ObjectGone
from support.operator import (
    NAMESPACE,
    incident_object,
)

pytestmark = pytest.mark.asyncio


async def test_kube_client_creates_idempotently(
    kube_connection: kopf.ConnectionInfo, kube: httpx.Client
) -> None:
    client = KubeClient(kube_connection)
    try:
        obj = incident_object(5)
        del obj["metadata"]["generation"]
        assert await client.create_object(INCIDENTS, obj) is True
        assert await client.create_object(INCIDENTS, obj) is False  # 409 AlreadyExists: fine
        assert [o["metadata"]["name"] for o in await client.list_objects(INCIDENTS, NAMESPACE)] == [
            "inc-5"
        ]
    finally:
        await client.aclose()


async def test_kube_client_reads_any_kind_across_namespaces(
    kube_connection: kopf.ConnectionInfo, kube: httpx.Client
) -> None:
    client = KubeClient(kube_connection)
    try:
        for namespace in ("team-a", "team-b"):
            schedule = {
                "apiVersion": "incident-platform.io/v1alpha1",
                "kind": "OnCallSchedule",
                "metadata": {"name": "primary", "namespace": namespace},
                "spec": {"layers": []},
            }
            assert await client.create_object(ONCALL_SCHEDULES, schedule) is True
        everywhere = await client.list_objects(ONCALL_SCHEDULES)
        assert sorted(o["metadata"]["namespace"] for o in everywhere) == ["team-a", "team-b"]
        assert [
            o["metadata"]["namespace"]
            for o in await client.list_objects(ONCALL_SCHEDULES, "team-b")
        ] == ["team-b"]
        found = await client.get_object(ONCALL_SCHEDULES, "team-a", "primary")
        assert found is not None
        assert found["metadata"]["namespace"] == "team-a"
        assert await client.get_object(ONCALL_SCHEDULES, "team-a", "secondary") is None
        await client.patch_status(ONCALL_SCHEDULES, "team-a", "primary", {"phase": "Synced"})
        patched = await client.get_object(ONCALL_SCHEDULES, "team-a", "primary")
        assert patched is not None
        assert patched["status"] == {"phase": "Synced"}
        with pytest.raises(ObjectGone):
            await client.patch_status(ONCALL_SCHEDULES, "team-a", "secondary", {"phase": "x"})
        assert await client.list_objects("notserved") == []
    finally:
        await client.aclose()
