"""The operator's own Kubernetes client against the emulated API server."""

from __future__ import annotations

from typing import Any

import httpx
import kopf
import pytest

from incident_operator.crd import INCIDENTS
from incident_operator.kube import KubeClient

NAMESPACE = "incident-platform"


pytestmark = pytest.mark.asyncio


def incident_object(incident_id: int, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "incident-platform.io/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": f"inc-{incident_id}", "namespace": NAMESPACE, "generation": 2},
        "spec": {"incidentId": incident_id, **spec},
    }


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
