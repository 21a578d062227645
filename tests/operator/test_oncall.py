"""On-call sync switched on and off by ``ONCALL_API_TOKEN``."""

from __future__ import annotations

import httpx
import pytest

from support.operator import (
    API,
    BASE,
    RunOperator,
    eventually,
    kube_apply,
    kube_get,
    kube_status,
    schedule_object,
)


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
