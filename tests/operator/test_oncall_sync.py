"""The sync both on-call kinds share (outages, adoption by name, deletion), through the
OnCallSchedule handlers against the real on-call service."""

from __future__ import annotations

import httpx
import kopf
import pytest

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
from support.operator import (
    call,
    failing,
    kube_apply,
    kube_put_status,
    ready,
    schedule_object,
    service_list,
)
from support.services import free_port


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
