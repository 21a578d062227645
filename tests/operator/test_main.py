"""The whole operator (every handler :func:`incident_operator.main.register` registers) under
``KopfRunner``, against the emulated Kubernetes API and the real services."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest

from support.database import connect
from support.oncall import create_user
from support.operator import (
    BASE,
    EXAMPLE_USERS,
    MERGE,
    NAMESPACE,
    REPO,
    Problems,
    RunOperator,
    eventually,
    example,
    kube_apply,
    kube_get,
    kube_put_status,
    kube_status,
    ready,
    schedule_object,
    send_alert,
)
from support.platform import Platform
from support.services import free_port

ALERTS = f"{BASE}/shop/alerts"
INCIDENTS = f"{BASE}/{NAMESPACE}/incidents"


def listing(kube: httpx.Client, path: str) -> list[dict[str, Any]]:
    response = kube.get(path)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


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
        found = kube_status(kube, f"{ALERTS}/{name}").get(field)
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


def test_alerts_and_incidents_through_kubernetes(
    run_operator: RunOperator, kube: httpx.Client, platform: Platform, crd_problems: Problems
) -> None:
    liveness = f"http://127.0.0.1:{free_port()}/healthz"
    with run_operator(f"--liveness={liveness}"):
        create_alert(kube, "checkout")
        alert = eventually(
            lambda: kube_status(kube, f"{ALERTS}/checkout").get("phase") == "Correlated",
            "the Alert to be correlated",
        )
        assert alert
        status = kube_status(kube, f"{ALERTS}/checkout")
        assert status["action"] == "created"
        incident_id = status["incidentId"]
        name = status["incidentRef"]
        assert name == f"inc-{incident_id}"
        alert_obj = kube_get(kube, f"{ALERTS}/checkout")
        assert alert_obj is not None
        assert alert_obj["metadata"]["finalizers"] == ["incident-platform.io/operator"]
        assert crd_problems(alert_obj) == []

        # The Incident object appears and mirrors the platform.
        eventually(lambda: kube_status(kube, f"{INCIDENTS}/{name}").get("alertCount"), "a mirror")
        mirror = kube_get(kube, f"{INCIDENTS}/{name}")
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
            lambda: kube_status(kube, f"{INCIDENTS}/{name}").get("status") == "acknowledged",
            "the mirror to show the acknowledgement",
        )
        synced = eventually(
            lambda: [
                c
                for c in kube_status(kube, f"{INCIDENTS}/{name}").get("conditions", [])
                if c["type"] == "Synced" and c["status"] == "True"
            ],
            "the Synced condition",
        )
        assert synced[0]["reason"] == "Acknowledged"

        # Deleting the Alert resolves it first; its incident had no other alert: auto-resolved.
        assert kube.delete(f"{ALERTS}/checkout").status_code == 200
        eventually(lambda: kube_get(kube, f"{ALERTS}/checkout") is None, "the Alert to be released")
        assert scalar(platform, "SELECT status FROM alerts") == "resolved"
        assert scalar(platform, "SELECT status FROM incidents") == "resolved"
        eventually(
            lambda: kube_status(kube, f"{INCIDENTS}/{name}").get("status") == "resolved",
            "the mirror to show the resolution",
        )
        mirror = kube_get(kube, f"{INCIDENTS}/{name}")
        assert mirror is not None
        assert mirror["status"]["timeToResolveSeconds"] >= 0
        assert crd_problems(mirror) == []


def test_an_illegal_request_and_a_rejected_alert_show_in_status(
    run_operator: RunOperator, kube: httpx.Client, platform: Platform
) -> None:
    with run_operator() as runner:
        create_alert(kube, "search", state="firing")
        name = eventually(
            lambda: kube_status(kube, f"{ALERTS}/search").get("incidentRef"), "an incident"
        )
        eventually(lambda: kube_get(kube, f"{INCIDENTS}/{name}"), "the mirror")
        resolve = {"spec": {"state": "resolved"}}
        assert kube.patch(f"{INCIDENTS}/{name}", json=resolve, headers=MERGE).status_code == 200
        eventually(
            lambda: kube_status(kube, f"{INCIDENTS}/{name}").get("status") == "resolved",
            "the resolution",
        )
        ack = {"spec": {"state": "acknowledged"}}
        assert kube.patch(f"{INCIDENTS}/{name}", json=ack, headers=MERGE).status_code == 200
        refused = eventually(
            lambda: [
                c
                for c in kube_status(kube, f"{INCIDENTS}/{name}").get("conditions", [])
                if c["reason"] == "IllegalTransition"
            ],
            "the IllegalTransition condition",
        )
        assert refused[0]["status"] == "False"
        assert refused[0]["message"] == "cannot acknowledge an incident that is resolved"

        # A spec the platform refuses (the CRD's own validation is not emulated here).
        create_alert(kube, "blank", summary="  ")
        eventually(
            lambda: kube_status(kube, f"{ALERTS}/blank").get("phase") == "Failed", "Failed phase"
        )
        failed = kube_status(kube, f"{ALERTS}/blank")
        assert "summary" in failed["message"]
        # Deleting it is not held up: there is nothing to resolve.
        assert kube.delete(f"{ALERTS}/blank").status_code == 200
        eventually(lambda: kube_get(kube, f"{ALERTS}/blank") is None, "the failed Alert to go")
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
        send_alert(platform, operator_key, "billing")  # an incident from outside Kubernetes
        for service in services:
            eventually(delivered(kube, service, "incidentId"), f"alert {service} delivered")
        eventually(lambda: len(listing(kube, INCIDENTS)) == 3, "three mirrors")

    alerts_before = scalar(platform, "SELECT count(*) FROM alerts")
    assert (alerts_before, scalar(platform, "SELECT count(*) FROM incidents")) == (3, 3)
    send_alert(platform, operator_key, "payments")  # while the operator is down

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


def service_items(api: httpx.Client, collection: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/{collection}")
    assert response.status_code == 200, response.text
    return cast(list[dict[str, Any]], response.json()["data"])


def phase_is(kube: httpx.Client, path: str, phase: str) -> Callable[[], bool]:
    return lambda: kube_status(kube, path).get("phase") == phase


def users_for_examples(api: httpx.Client) -> dict[str, str]:
    return {name: create_user(api, name) for name in EXAMPLE_USERS}


@pytest.mark.usefixtures("oncall_environment")
def test_the_examples_are_synced_and_deleted_through_kubernetes(
    run_operator: RunOperator,
    kube: httpx.Client,
    oncall_api: httpx.Client,
    crd_problems: Problems,
) -> None:
    ids = users_for_examples(oncall_api)
    with run_operator() as runner:
        # `kubectl apply -n payments -f examples/`: the policy comes first (alphabetically) and
        # waits for the schedule.
        policy_path = kube_apply(kube, example("escalationpolicy.yaml"), "payments")
        eventually(phase_is(kube, policy_path, "Pending"), "the policy to wait for its schedule")
        assert kube_status(kube, policy_path)["message"] == (
            'spec.steps[0].targets[0].name: no OnCallSchedule "payments-primary"'
        )
        schedule_path = kube_apply(kube, example("oncallschedule.yaml"), "payments")
        for path in (schedule_path, policy_path):
            eventually(phase_is(kube, path, "Synced"), f"{path} to be Synced")
        schedule = kube_get(kube, schedule_path)
        policy = kube_get(kube, policy_path)
        assert schedule is not None
        assert policy is not None
        assert crd_problems(schedule) == []
        assert crd_problems(policy) == []
        assert schedule["metadata"]["finalizers"] == ["incident-platform.io/operator"]
        schedule_id = schedule["status"]["syncedId"]
        policy_id = policy["status"]["syncedId"]

        # The on-call service knows who is on call now, from the example's layers.
        oncall = oncall_api.get(f"/api/v1/schedules/{schedule_id}/oncall")
        assert oncall.status_code == 200, oncall.text
        assert oncall.json()["user"]["id"] in ids.values()
        stored = oncall_api.get(f"/api/v1/escalation-policies/{policy_id}").json()
        assert stored["name"] == "payments/payments-escalation"
        assert stored["steps"][0]["targets"] == [{"type": "schedule", "id": schedule_id}]
        assert stored["steps"][1]["targets"] == [{"type": "user", "id": ids["lead"]}]

        # Deleting the schedule first: held while the policy uses it; the policy's deletion
        # releases it.
        assert kube.delete(schedule_path).status_code == 200
        held = eventually(
            lambda: kube_status(kube, schedule_path).get("message", "").startswith("schedule"),
            "the schedule's deletion to be held",
        )
        assert held
        assert ready(kube_get(kube, schedule_path) or {})["reason"] == "InUse"
        assert kube_status(kube, schedule_path)["message"] == (
            "schedule 'payments-primary' is used by escalation policy payments/payments-escalation"
        )
        assert kube.delete(policy_path).status_code == 200
        eventually(lambda: kube_get(kube, policy_path) is None, "the policy to be released")
        eventually(lambda: kube_get(kube, schedule_path) is None, "the schedule to be released")
        assert service_items(oncall_api, "schedules") == []
        assert service_items(oncall_api, "escalation-policies") == []
    assert "on-call sync is on" in runner.output
    assert "on-call sync is off" not in runner.output


@pytest.mark.usefixtures("oncall_environment")
def test_a_restart_resyncs_without_duplicates_and_heals_unknown_users(
    run_operator: RunOperator,
    kube: httpx.Client,
    oncall_api: httpx.Client,
) -> None:
    create_user(oncall_api, "alice")
    obj = schedule_object("primary", ["alice", "late@example.com"])
    for key in ("generation", "uid"):
        del obj["metadata"][key]
    with run_operator():
        path = kube_apply(kube, obj, "team-a")
        failed = eventually(
            lambda: kube_status(kube, path).get("phase") == "Failed", "the unknown user"
        )
        assert failed
        assert (
            'spec.layers[0].users[1]: no user "late@example.com"'
            in kube_status(kube, path)["message"]
        )
        create_user(oncall_api, "late")  # ONCALL_UNRESOLVED_RETRY_SECONDS=1 here
        eventually(lambda: kube_status(kube, path).get("phase") == "Synced", "the sync")
    schedule_id = kube_status(kube, path)["syncedId"]

    # While the operator is down the status is lost; the restart adopts the schedule by name.
    kube_put_status(kube, path, {"syncedId": None, "phase": "Pending"})
    assert "syncedId" not in kube_status(kube, path)
    with run_operator():
        eventually(lambda: kube_status(kube, path).get("phase") == "Synced", "the resync")
    assert kube_status(kube, path)["syncedId"] == schedule_id
    assert [s["id"] for s in service_items(oncall_api, "schedules")] == [schedule_id]


def test_the_operator_imports_nothing_of_the_services() -> None:
    """The operator talks to the platform over HTTP only: no module of it imports the
    services' package, and loading every handler loads none of it."""
    package = REPO / "operator" / "incident_operator"
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not [n for n in names if n.split(".")[0] == "incident_platform"], path
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, incident_operator.main;"
            " print(sorted(m for m in sys.modules if m.startswith('incident_platform')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ONCALL_API_TOKEN": "ipt_x"},
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout
