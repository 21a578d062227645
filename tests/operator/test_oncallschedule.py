"""The OnCallSchedule handlers called directly against the real on-call service."""

from __future__ import annotations

import httpx
import kopf
import pytest

from incident_operator.clients.core import PlatformRejected
from incident_operator.oncallschedule import (
    oncallschedule_create,
    oncallschedule_resume,
    oncallschedule_update,
)
from support.oncall import create_user
from support.operator import (
    Problems,
    call,
    failing,
    ready,
    schedule_object,
    service_list,
)


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
