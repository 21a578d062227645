"""What the operator tests share: custom resources as a user writes them, a handler run the way
kopf runs it, and kubectl's calls to the emulated API server.

The operator's fixtures are in ``tests/operator/conftest.py``; test modules cannot import a
conftest (pytest's importlib mode), so the plain helpers live here.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import kopf
import pytest
import yaml
from kopf.testing import KopfRunner

from incident_operator.builders.status import apply_merge_patch
from incident_operator.models import PlatformIncident
from support.database import connect
from support.platform import Platform

REPO = Path(__file__).resolve().parents[2]
GROUP = "incident-platform.io"
VERSION = "v1alpha1"
API = f"{GROUP}/{VERSION}"
BASE = f"/apis/{API}/namespaces"
NAMESPACE = "incident-platform"  # where the operator mirrors incidents
MERGE = {"Content-Type": "application/merge-patch+json"}
EXAMPLE_USERS = ("alice", "bob", "carol", "sre-dana", "sre-eve", "frank", "grace", "lead", "cto")
# The builder tests' clock: ``an_incident`` was created then, and their expected timestamps
# are written from it.
NOW = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)
LOGGER = logging.getLogger("tests.operator")

T = TypeVar("T")
Handler = Callable[..., Any]
Problems = Callable[[Mapping[str, Any]], list[str]]
RunOperator = Callable[..., AbstractContextManager[KopfRunner]]


# --- Custom resources -----------------------------------------------------------------------


def example(name: str) -> dict[str, Any]:
    """A file of ``examples/``, as ``kubectl apply -f`` reads it."""
    loaded: dict[str, Any] = yaml.safe_load((REPO / "examples" / name).read_text())
    return loaded


def placed(obj: Mapping[str, Any], namespace: str, **meta: Any) -> dict[str, Any]:
    """``obj`` in ``namespace``, with what the API server adds (generation, uid)."""
    built = cast(dict[str, Any], yaml.safe_load(yaml.safe_dump(dict(obj))))
    built["metadata"] = {
        "generation": 1,
        "uid": str(uuid.uuid4()),
        **built["metadata"],
        "namespace": namespace,
        **meta,
    }
    return built


def fake_users(*names: str) -> list[dict[str, Any]]:
    """The on-call service's user list for ``names``, without the service."""
    return [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, n)), "name": n, "email": f"{n}@example.com"}
        for n in names
    ]


def user_id(users: list[dict[str, Any]], name: str) -> str:
    (found,) = [u["id"] for u in users if u["name"] == name]
    return str(found)


def alert_object(name: str = "checkout-errors", **spec: Any) -> dict[str, Any]:
    """An Alert as the handlers receive it (for the handler tests)."""
    return {
        "apiVersion": API,
        "kind": "Alert",
        "metadata": {"name": name, "namespace": "shop", "generation": 1},
        "spec": {"service": "checkout", "summary": "5xx above 5%", "severity": "high", **spec},
    }


def an_alert(**spec: Any) -> dict[str, Any]:
    """An Alert without a severity, at a later generation (for the builder tests)."""
    return {
        "apiVersion": API,
        "kind": "Alert",
        "metadata": {"name": "checkout-errors", "namespace": "shop", "generation": 3},
        "spec": {"service": "checkout", "summary": "5xx above 5%", **spec},
    }


def incident_object(incident_id: int, **spec: Any) -> dict[str, Any]:
    """An Incident mirror as the handlers receive it."""
    return {
        "apiVersion": API,
        "kind": "Incident",
        "metadata": {"name": f"inc-{incident_id}", "namespace": NAMESPACE, "generation": 2},
        "spec": {"incidentId": incident_id, **spec},
    }


def an_incident(**changes: Any) -> PlatformIncident:
    """The platform's incident 42, created at ``NOW``, with ``changes``."""
    fields: dict[str, Any] = {
        "id": 42,
        "title": "5xx above 5%",
        "service": "checkout",
        "severity": "critical",
        "status": "triggered",
        "alert_count": 2,
        "change_seq": 17,
        "created_at": NOW,
        "updated_at": NOW + timedelta(seconds=5),
    }
    fields.update(changes)
    return PlatformIncident.model_validate(fields)


def schedule_object(object_name: str, users: list[str], /, **spec: Any) -> dict[str, Any]:
    """An OnCallSchedule in team-a: one daily layer of ``users``."""
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


def policy_object(object_name: str, steps: list[dict[str, Any]], /, **spec: Any) -> dict[str, Any]:
    """An EscalationPolicy in team-a."""
    return {
        "apiVersion": API,
        "kind": "EscalationPolicy",
        "metadata": {
            "name": object_name,
            "namespace": "team-a",
            "generation": 1,
            "uid": object_name + "-uid",
        },
        "spec": {"steps": steps, **spec},
    }


def with_status(obj: Mapping[str, Any], status_patch: Mapping[str, Any]) -> dict[str, Any]:
    """The object after a ``/status`` merge patch, as the API server would store it."""
    patched: dict[str, Any] = apply_merge_patch(obj, {"status": status_patch})
    return patched


def ready(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's Ready condition."""
    (found,) = [c for c in obj["status"]["conditions"] if c["type"] == "Ready"]
    return cast(dict[str, Any], found)


# --- Handlers run the way kopf runs them ------------------------------------------------------


def body_of(obj: Mapping[str, Any]) -> kopf.Body:
    return kopf.Body(cast(kopf.RawBody, dict(obj)))


def after(obj: Mapping[str, Any], patch: kopf.Patch) -> dict[str, Any]:
    """The object once kopf applied the handler's patch (what the next call would see)."""
    patched: dict[str, Any] = apply_merge_patch(obj, dict(patch))
    return patched


async def deliver(
    handler: Handler, obj: Mapping[str, Any], memo: kopf.Memo, retry: int = 0
) -> kopf.Patch:
    """Run a handler like kopf does; the patch it left."""
    patch = kopf.Patch()
    await handler(body=body_of(obj), patch=patch, memo=memo, logger=LOGGER, retry=retry)
    return patch


async def call(
    handler: Handler, obj: Mapping[str, Any], memo: kopf.Memo, retry: int = 0
) -> tuple[dict[str, Any], kopf.Patch]:
    """Run a handler like kopf does; ``(the object with the patch applied, the patch)``."""
    patch = await deliver(handler, obj, memo, retry)
    return after(obj, patch), patch


async def failing(
    handler: Handler, obj: Mapping[str, Any], memo: kopf.Memo, error: type[Exception]
) -> tuple[dict[str, Any], Exception]:
    """Run a handler that must raise ``error``; ``(the object after its patch, the error)``."""
    patch = kopf.Patch()
    with pytest.raises(error) as raised:
        await handler(body=body_of(obj), patch=patch, memo=memo, logger=LOGGER, retry=0)
    return after(obj, patch), raised.value


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


# --- kubectl against the emulated API server --------------------------------------------------


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


def kube_put_status(kube: httpx.Client, path: str, status: Mapping[str, Any]) -> None:
    response = kube.patch(f"{path}/status", json={"status": dict(status)}, headers=MERGE)
    assert response.status_code == 200, response.text


# --- The platform, as the tests check on it ---------------------------------------------------


def db_rows(platform: Platform, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with connect(platform.database_url) as connection:
        return list(connection.execute(sql, args).fetchall())


def send_alert(platform: Platform, key: str, service: str) -> dict[str, Any]:
    """An alert from outside Kubernetes (curl with a generic integration key)."""
    response = httpx.post(
        platform.ingestion.url + "/api/v1/alerts",
        json={"service": service, "summary": f"{service} is slow", "severity": "warning"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202, response.text
    return cast(dict[str, Any], response.json())


async def service_list(api: httpx.AsyncClient, collection: str) -> list[dict[str, Any]]:
    """A collection of the on-call service (``schedules``, ``escalation-policies``)."""
    response = await api.get(f"/api/v1/{collection}")
    assert response.status_code == 200, response.text
    return cast(list[dict[str, Any]], response.json()["data"])
