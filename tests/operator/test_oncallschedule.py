"""The OnCallSchedule handlers called directly against the real on-call service."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import httpx
import kopf
import pytest
import yaml

from incident_operator.builders.status import apply_merge_patch
from incident_operator.clients.core import PlatformRejected
from incident_operator.oncallschedule import (
    oncallschedule_create,
    oncallschedule_resume,
    oncallschedule_update,
)
from support.oncall import create_user

REPO = Path(__file__).resolve().parents[2]
LOGGER = logging.getLogger("tests.operator.oncall")
API = "incident-platform.io/v1alpha1"
Problems = Callable[[Mapping[str, Any]], list[str]]
Handler = Callable[..., Any]


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "examples" / name).read_text())
    return loaded


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


@pytest.mark.asyncio
async def test_a_schedule_is_created_updated_and_resumed_without_duplicates(
    oncall_memo: kopf.Memo,
    oncall_api: httpx.Client,
    service: httpx.AsyncClient,
    crd_problems: Problems,
) -> None:
    alice, bob = create_user(oncall_api, "alice"), create_user(oncall_api, "bob")
    obj = schedule_object("primary", ["alice@example.com", "bob"])
    obj, _ = await call(oncallschedule_create, obj, oncall_memo)
    assert obj["status"]["phase"] == "Synced"
    assert ready(obj)["reason"] == "Synced"
    assert crd_problems(obj) == []
    schedule_id = obj["status"]["syncedId"]
    stored = (await service.get(f"/api/v1/schedules/{schedule_id}")).json()
    assert stored["name"] == "team-a/primary"
    assert stored["layers"][0]["users"] == [alice, bob]

    # A spec change: PUT to the same id.
    obj["spec"]["layers"][0]["users"] = ["bob@example.com"]
    obj["spec"]["layers"][0]["rotation"] = {"type": "custom", "shift_hours": 6}
    obj["metadata"]["generation"] = 2
    obj, _ = await call(oncallschedule_update, obj, oncall_memo)
    assert obj["status"]["syncedId"] == schedule_id
    assert obj["status"]["observedGeneration"] == 2
    stored = (await service.get(f"/api/v1/schedules/{schedule_id}")).json()
    assert stored["layers"][0]["users"] == [bob]
    assert stored["layers"][0]["rotation"] == {"type": "custom", "shift_hours": 6.0}

    # A restart: the same content again, the same schedule.
    obj, _ = await call(oncallschedule_resume, obj, oncall_memo)
    assert obj["status"]["syncedId"] == schedule_id
    # The status was lost (e.g. the object restored from a backup): POST says the name is
    # taken, the schedule is looked up by name and adopted.
    del obj["status"]
    obj, _ = await call(oncallschedule_resume, obj, oncall_memo)
    assert obj["status"]["syncedId"] == schedule_id
    assert [s["id"] for s in await service_list(service, "schedules")] == [schedule_id]

    # Deleted in the service by hand: created again.
    assert (await service.delete(f"/api/v1/schedules/{schedule_id}")).status_code == 204
    obj, _ = await call(oncallschedule_resume, obj, oncall_memo)
    assert obj["status"]["syncedId"] != schedule_id
    assert [s["id"] for s in await service_list(service, "schedules")] == [
        obj["status"]["syncedId"]
    ]


@pytest.mark.asyncio
async def test_an_unknown_user_fails_with_the_field_and_heals_once_the_user_exists(
    oncall_memo: kopf.Memo,
    oncall_api: httpx.Client,
    service: httpx.AsyncClient,
    crd_problems: Problems,
) -> None:
    create_user(oncall_api, "alice")
    obj = schedule_object("primary", ["alice", "dave@example.com"])
    obj, error = await failing(oncallschedule_create, obj, oncall_memo, kopf.TemporaryError)
    assert isinstance(error, kopf.TemporaryError)
    assert error.delay == 1.0  # ONCALL_UNRESOLVED_RETRY_SECONDS (fixture); 300 by default
    assert obj["status"]["phase"] == "Failed"
    assert ready(obj)["reason"] == "UnresolvedUser"
    assert ready(obj)["message"] == 'spec.layers[0].users[1]: no user "dave@example.com"'
    assert "syncedId" not in obj["status"]
    assert crd_problems(obj) == []
    assert await service_list(service, "schedules") == []

    # kopf retries after the delay: by then someone created the user.
    dave = create_user(oncall_api, "dave")
    obj, _ = await call(oncallschedule_create, obj, oncall_memo, retry=1)
    assert obj["status"]["phase"] == "Synced"
    stored = (await service.get(f"/api/v1/schedules/{obj['status']['syncedId']}")).json()
    assert stored["layers"][0]["users"][1] == dave


@pytest.mark.asyncio
async def test_a_spec_the_service_refuses_fails_permanently(
    oncall_memo: kopf.Memo,
    oncall_api: httpx.Client,
    service: httpx.AsyncClient,
) -> None:
    create_user(oncall_api, "alice")
    obj = schedule_object("primary", ["alice"], timezone="Mars/Olympus_Mons")
    obj, _ = await failing(oncallschedule_create, obj, oncall_memo, PlatformRejected)
    assert obj["status"]["phase"] == "Failed"
    assert ready(obj)["reason"] == "Rejected"
    assert "timezone" in ready(obj)["message"]
