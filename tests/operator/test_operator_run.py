"""The whole operator (``kopf run --standalone -A -m incident_operator.main`` under
``kopf.testing.KopfRunner``) against kmock's emulated Kubernetes API and the real services."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import httpx
from kopf.testing import KopfRunner

from support.database import connect
from support.platform import Platform
from support.services import free_port

T = TypeVar("T")
Problems = Callable[[Mapping[str, Any]], list[str]]
RunOperator = Callable[..., AbstractContextManager[KopfRunner]]
NAMESPACE = "incident-platform"
BASE = "/apis/incident-platform.io/v1alpha1/namespaces"
ALERTS = f"{BASE}/shop/alerts"
INCIDENTS = f"{BASE}/{NAMESPACE}/incidents"
MERGE = {"Content-Type": "application/merge-patch+json"}


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


def get(kube: httpx.Client, path: str) -> dict[str, Any] | None:
    response = kube.get(path)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def listing(kube: httpx.Client, path: str) -> list[dict[str, Any]]:
    response = kube.get(path)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def status_of(kube: httpx.Client, path: str) -> dict[str, Any]:
    return (get(kube, path) or {}).get("status") or {}


def scalar(platform: Platform, sql: str, *args: object) -> Any:
    with connect(platform.database_url) as connection:
        row = connection.execute(sql, args).fetchone()
    assert row is not None
    return row[0]


def delivered(
    kube: httpx.Client, name: str, field: str, value: object = None
) -> Callable[[], bool]:
    """A probe: has the Alert's status ``field`` got a value (``value``, if given)?"""

    def probe() -> bool:
        found = status_of(kube, f"{ALERTS}/{name}").get(field)
        return found is not None and (value is None or found == value)

    return probe


def create_alert(kube: httpx.Client, name: str, **spec: Any) -> None:
    obj = {
        "apiVersion": "incident-platform.io/v1alpha1",
        "kind": "Alert",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"service": name, "summary": f"{name} is failing", "severity": "critical", **spec},
    }
    response = kube.post(ALERTS, json=obj)
    assert response.status_code in (200, 201), response.text


def curl_alert(platform: Platform, key: str, service: str) -> None:
    response = httpx.post(
        platform.ingestion.url + "/api/v1/alerts",
        json={"service": service, "summary": f"{service} is slow", "severity": "warning"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202, response.text


def test_alerts_and_incidents_through_kubernetes(
    run_operator: RunOperator, kube: httpx.Client, platform: Platform, crd_problems: Problems
) -> None:
    liveness = f"http://127.0.0.1:{free_port()}/healthz"
    with run_operator(f"--liveness={liveness}"):
        create_alert(kube, "checkout")
        alert = eventually(
            lambda: status_of(kube, f"{ALERTS}/checkout").get("phase") == "Correlated",
            "the Alert to be correlated",
        )
        assert alert
        status = status_of(kube, f"{ALERTS}/checkout")
        assert status["action"] == "created"
        incident_id = status["incidentId"]
        name = status["incidentRef"]
        assert name == f"inc-{incident_id}"
        alert_obj = get(kube, f"{ALERTS}/checkout")
        assert alert_obj is not None
        assert alert_obj["metadata"]["finalizers"] == ["incident-platform.io/operator"]
        assert crd_problems(alert_obj) == []

        # The Incident object appears and mirrors the platform.
        eventually(lambda: status_of(kube, f"{INCIDENTS}/{name}").get("alertCount"), "a mirror")
        mirror = get(kube, f"{INCIDENTS}/{name}")
        assert mirror is not None
        assert mirror["spec"] == {"incidentId": incident_id}
        assert mirror["status"]["status"] == "triggered"
        assert mirror["status"]["service"] == "checkout"
        assert mirror["status"]["severity"] == "critical"
        assert crd_problems(mirror) == []

        # The liveness endpoint answers, with the feed's progress.
        health = eventually(lambda: httpx.get(liveness).json(), "the liveness endpoint")
        assert health["incidentFeed"]["cursor"] >= 1

        # kubectl patch incident inc-1 --type merge -p '{"spec":{"state":"acknowledged"}}'
        ack = kube.patch(
            f"{INCIDENTS}/{name}", json={"spec": {"state": "acknowledged"}}, headers=MERGE
        )
        assert ack.status_code == 200, ack.text
        eventually(
            lambda: (
                scalar(platform, "SELECT status FROM incidents WHERE id = %s", incident_id)
                == "acknowledged"
            ),
            "the incident to be acknowledged in the database",
        )
        eventually(
            lambda: status_of(kube, f"{INCIDENTS}/{name}").get("status") == "acknowledged",
            "the mirror to show the acknowledgement",
        )
        synced = eventually(
            lambda: [
                c
                for c in status_of(kube, f"{INCIDENTS}/{name}").get("conditions", [])
                if c["type"] == "Synced" and c["status"] == "True"
            ],
            "the Synced condition",
        )
        assert synced[0]["reason"] == "Acknowledged"

        # Deleting the Alert resolves it first; its incident had no other alert: auto-resolved.
        assert kube.delete(f"{ALERTS}/checkout").status_code == 200
        eventually(lambda: get(kube, f"{ALERTS}/checkout") is None, "the Alert to be released")
        assert scalar(platform, "SELECT status FROM alerts") == "resolved"
        assert scalar(platform, "SELECT status FROM incidents") == "resolved"
        eventually(
            lambda: status_of(kube, f"{INCIDENTS}/{name}").get("status") == "resolved",
            "the mirror to show the resolution",
        )
        mirror = get(kube, f"{INCIDENTS}/{name}")
        assert mirror is not None
        assert mirror["status"]["timeToResolveSeconds"] >= 0
        assert crd_problems(mirror) == []


def test_an_illegal_request_and_a_rejected_alert_show_in_status(
    run_operator: RunOperator, kube: httpx.Client, platform: Platform
) -> None:
    with run_operator() as runner:
        create_alert(kube, "search", state="firing")
        name = eventually(
            lambda: status_of(kube, f"{ALERTS}/search").get("incidentRef"), "an incident"
        )
        eventually(lambda: get(kube, f"{INCIDENTS}/{name}"), "the mirror")
        resolve = {"spec": {"state": "resolved"}}
        assert kube.patch(f"{INCIDENTS}/{name}", json=resolve, headers=MERGE).status_code == 200
        eventually(
            lambda: status_of(kube, f"{INCIDENTS}/{name}").get("status") == "resolved",
            "the resolution",
        )
        ack = {"spec": {"state": "acknowledged"}}
        assert kube.patch(f"{INCIDENTS}/{name}", json=ack, headers=MERGE).status_code == 200
        refused = eventually(
            lambda: [
                c
                for c in status_of(kube, f"{INCIDENTS}/{name}").get("conditions", [])
                if c["reason"] == "IllegalTransition"
            ],
            "the IllegalTransition condition",
        )
        assert refused[0]["status"] == "False"
        assert refused[0]["message"] == "cannot acknowledge an incident that is resolved"

        # A spec the platform refuses (the CRD's own validation is not emulated here).
        create_alert(kube, "blank", summary="  ")
        eventually(
            lambda: status_of(kube, f"{ALERTS}/blank").get("phase") == "Failed", "Failed phase"
        )
        failed = status_of(kube, f"{ALERTS}/blank")
        assert "summary" in failed["message"]
        # Deleting it is not held up: there is nothing to resolve.
        assert kube.delete(f"{ALERTS}/blank").status_code == 200
        eventually(lambda: get(kube, f"{ALERTS}/blank") is None, "the failed Alert to go")
        assert scalar(platform, "SELECT status FROM incidents") == "resolved"

    # Neither refusal is retried: the illegal transition is a handled outcome, the rejected
    # spec a permanent failure (kopf does not retry those).
    output = runner.output
    assert output.count("Handler 'incident_state_changed' failed") == 0
    assert output.count("cannot make incident") == 1
    assert output.count("Handler 'alert_create' failed permanently") == 1
    assert "Handler 'alert_create' failed temporarily" not in output


def test_a_restart_makes_no_duplicates(
    run_operator: RunOperator, kube: httpx.Client, platform: Platform, operator_key: str
) -> None:
    services = ["checkout", "search"]
    with run_operator():
        for service in services:
            create_alert(kube, service)
        curl_alert(platform, operator_key, "billing")  # an incident from outside Kubernetes
        for service in services:
            eventually(delivered(kube, service, "incidentId"), f"alert {service} delivered")
        eventually(lambda: len(listing(kube, INCIDENTS)) == 3, "three mirrors")

    alerts_before = scalar(platform, "SELECT count(*) FROM alerts")
    assert (alerts_before, scalar(platform, "SELECT count(*) FROM incidents")) == (3, 3)
    curl_alert(platform, operator_key, "payments")  # while the operator is down

    liveness = f"http://127.0.0.1:{free_port()}/healthz"
    with run_operator(f"--liveness={liveness}"):
        # Resumed Alerts are sent again: the platform deduplicates them.
        for service in services:
            eventually(
                delivered(kube, service, "action", "deduplicated"), f"alert {service} re-sent"
            )
        eventually(lambda: len(listing(kube, INCIDENTS)) == 4, "the missed incident's mirror")
        eventually(
            lambda: httpx.get(liveness).json()["incidentFeed"]["lastSuccess"], "a full feed pass"
        )
        mirrors = listing(kube, INCIDENTS)

    assert scalar(platform, "SELECT count(*) FROM alerts") == alerts_before + 1  # payments
    assert scalar(platform, "SELECT count(*) FROM incidents") == 4
    assert scalar(platform, "SELECT sum(occurrences) FROM alerts") == 4 + len(services)
    assert sorted(m["metadata"]["name"] for m in mirrors) == ["inc-1", "inc-2", "inc-3", "inc-4"]
    assert sorted(m["spec"]["incidentId"] for m in mirrors) == [1, 2, 3, 4]
