"""On-call sync switched on and off by ``ONCALL_API_TOKEN``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

import httpx
import kopf
import pytest
from kopf.testing import KopfRunner

from incident_operator.builders.status import apply_merge_patch

LOGGER = logging.getLogger("tests.operator.oncall")
API = "incident-platform.io/v1alpha1"
BASE = f"/apis/{API}/namespaces"
T = TypeVar("T")
RunOperator = Callable[..., AbstractContextManager[KopfRunner]]
Handler = Callable[..., Any]


def schedule_object(object_name: str, users: list[str], /, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "OnCallSchedule",
        "metadata": {
            "name": object_name,
            "namespace": "team-a",
            "generation": 1,
            "uid": object_name + "-uid",
        },
        "spec": {
            "timezone": "Europe/Paris",
            "layers": [
                {
                    "name": "primary",
                    "users": users,
                    "start": "2026-01-05T09:00:00+01:00",
                    "rotation": {"type": "daily", "handoff_time": "09:00"},
                }
            ],
            **spec,
        },
    }


def body_of(obj: Mapping[str, Any]) -> kopf.Body:
    return kopf.Body(cast(kopf.RawBody, dict(obj)))


async def call(
    handler: Handler, obj: Mapping[str, Any], memo: kopf.Memo, retry: int = 0
) -> tuple[dict[str, Any], kopf.Patch]:
    """Run a handler like kopf does; ``(the object with the patch applied, the patch)``."""
    patch = kopf.Patch()
    try:
        await handler(body=body_of(obj), patch=patch, memo=memo, logger=LOGGER, retry=retry)
    finally:
        obj_after = apply_merge_patch(obj, dict(patch))
    return obj_after, patch


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    """Poll ``probe`` until it returns something truthy (bounded: fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def kube_get(kube: httpx.Client, path: str) -> dict[str, Any] | None:
    response = kube.get(path)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return cast(dict[str, Any], response.json())


def kube_status(kube: httpx.Client, path: str) -> dict[str, Any]:
    return cast(dict[str, Any], (kube_get(kube, path) or {}).get("status") or {})


def kube_apply(kube: httpx.Client, obj: Mapping[str, Any], namespace: str) -> str:
    """``kubectl apply -n <namespace>`` of a new object; its path."""
    plural = {"OnCallSchedule": "oncallschedules", "EscalationPolicy": "escalationpolicies"}
    collection = f"{BASE}/{namespace}/{plural[obj['kind']]}"
    response = kube.post(collection, json=dict(obj))
    assert response.status_code in (200, 201), response.text
    return f"{collection}/{obj['metadata']['name']}"


def test_without_a_token_on_call_sync_is_off(
    run_operator: RunOperator,
    kube: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ONCALL_API_TOKEN", raising=False)
    obj = schedule_object("primary", ["alice"])
    for key in ("generation", "uid"):
        del obj["metadata"][key]
    with run_operator() as runner:
        path = kube_apply(kube, obj, "team-a")
        # An Alert created after it is handled: the operator is at work, yet the schedule is
        # left alone (no status, no finalizer).
        alert = {
            "apiVersion": API,
            "kind": "Alert",
            "metadata": {"name": "probe", "namespace": "team-a"},
            "spec": {"service": "probe", "summary": "probe", "severity": "info"},
        }
        response = kube.post(f"{BASE}/team-a/alerts", json=alert)
        assert response.status_code in (200, 201), response.text
        eventually(
            lambda: kube_status(kube, f"{BASE}/team-a/alerts/probe").get("phase"),
            "the Alert to be handled",
        )
        left = kube_get(kube, path)
        assert left is not None
        assert "status" not in left
        assert "finalizers" not in left["metadata"]
    assert runner.output.count("on-call sync is off") == 1
