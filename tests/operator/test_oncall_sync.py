"""The sync both on-call kinds share (outages, adoption by name, deletion), through the
OnCallSchedule handlers against the real on-call service."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

import httpx
import kopf
import pytest

from incident_operator.builders.status import apply_merge_patch
from incident_operator.clients.core import PlatformUnavailable
from incident_operator.clients.oncall import (
    OnCallClient,
)
from incident_operator.oncall import MEMO_KEY, OnCallSync
from incident_operator.oncall_sync import NameTaken
from incident_operator.oncallschedule import (
    oncallschedule_create,
    oncallschedule_delete,
)
from incident_operator.settings import Config
from support.oncall import create_schedule as create_service_schedule
from support.oncall import create_user, daily_schedule
from support.services import free_port

LOGGER = logging.getLogger("tests.operator.oncall")
API = "incident-platform.io/v1alpha1"
BASE = f"/apis/{API}/namespaces"
MERGE = {"Content-Type": "application/merge-patch+json"}
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


async def failing(
    handler: Handler, obj: Mapping[str, Any], memo: kopf.Memo, error: type[Exception]
) -> tuple[dict[str, Any], Exception]:
    """Run a handler that must raise ``error``; ``(the object after its patch, the error)``."""
    patch = kopf.Patch()
    with pytest.raises(error) as raised:
        await handler(body=body_of(obj), patch=patch, memo=memo, logger=LOGGER, retry=0)
    return apply_merge_patch(obj, dict(patch)), raised.value


def ready(obj: Mapping[str, Any]) -> dict[str, Any]:
    (found,) = [c for c in obj["status"]["conditions"] if c["type"] == "Ready"]
    return cast(dict[str, Any], found)


async def service_list(api: httpx.AsyncClient, collection: str) -> list[dict[str, Any]]:
    response = await api.get(f"/api/v1/{collection}")
    assert response.status_code == 200, response.text
    return cast(list[dict[str, Any]], response.json()["data"])


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


@pytest.mark.asyncio
async def test_the_service_being_down_is_retried(
    oncall_config: Config, oncall_memo: kopf.Memo
) -> None:
    down = Config.model_validate(
        {**oncall_config.model_dump(), "oncall_url": f"http://127.0.0.1:{free_port()}"}
    )
    runtime = oncall_memo[MEMO_KEY].runtime
    sync = OnCallSync(runtime=runtime, client=OnCallClient(down))
    try:
        obj = schedule_object("primary", ["alice"])
        memo = kopf.Memo(runtime=runtime, **{MEMO_KEY: sync})
        obj, _ = await failing(oncallschedule_create, obj, memo, PlatformUnavailable)
        assert obj["status"]["phase"] == "Pending"
        assert ready(obj)["reason"] == "OnCallUnavailable"
    finally:
        await sync.aclose()


@pytest.mark.asyncio
async def test_a_name_synced_from_another_namespace_is_not_taken_over(
    oncall_memo: kopf.Memo, oncall_api: httpx.Client, service: httpx.AsyncClient, kube: httpx.Client
) -> None:
    create_user(oncall_api, "alice")
    first = schedule_object("primary", ["alice"], name="shared")
    first, _ = await call(oncallschedule_create, first, oncall_memo)
    path = kube_apply(kube, first, "team-a")
    kube_put_status(kube, path, first["status"])

    second = schedule_object("primary", ["alice"], name="shared")
    second["metadata"].update(namespace="team-b", uid="another-uid")
    second, _ = await failing(oncallschedule_create, second, oncall_memo, NameTaken)
    assert second["status"]["phase"] == "Failed"
    assert ready(second)["reason"] == "NameTaken"
    assert "synced from OnCallSchedule team-a/primary" in ready(second)["message"]
    assert [s["id"] for s in await service_list(service, "schedules")] == [
        first["status"]["syncedId"]
    ]


@pytest.mark.asyncio
async def test_an_object_that_never_synced_is_deleted_at_once(
    oncall_memo: kopf.Memo,
    oncall_api: httpx.Client,
    service: httpx.AsyncClient,
) -> None:
    create_service_schedule(
        oncall_api, daily_schedule("team-a/primary", [create_user(oncall_api, "x")])
    )
    # Never synced (no syncedId): nothing in the service is touched, even with that name.
    await call(oncallschedule_delete, schedule_object("primary", ["x"]), oncall_memo)
    assert len(await service_list(service, "schedules")) == 1
