"""The EscalationPolicy handlers called directly against the real on-call service and the
emulated Kubernetes API (a policy's schedules are read from there)."""

from __future__ import annotations

import httpx
import kopf
import pytest

from incident_operator.escalationpolicy import (
    escalationpolicy_create,
    escalationpolicy_delete,
    escalationpolicy_resume,
    escalationpolicy_update,
)
from incident_operator.oncallschedule import (
    oncallschedule_create,
    oncallschedule_delete,
)
from support.oncall import create_policy, create_user, route
from support.operator import (
    Problems,
    call,
    failing,
    kube_apply,
    kube_put_status,
    policy_object,
    ready,
    schedule_object,
    service_list,
)


@pytest.mark.asyncio
async def test_a_policy_resolves_schedules_through_kubernetes_and_blocks_their_deletion(
    oncall_memo: kopf.Memo,
    oncall_api: httpx.Client,
    service: httpx.AsyncClient,
    kube: httpx.Client,
    crd_problems: Problems,
) -> None:
    create_user(oncall_api, "alice")
    lead = create_user(oncall_api, "lead")
    steps = [
        {"delayMinutes": 0, "targets": [{"type": "schedule", "name": "primary"}]},
        {"delayMinutes": 10, "targets": [{"type": "user", "name": "lead@example.com"}]},
    ]
    policy = policy_object("escalation", steps, repeat=1)

    # No OnCallSchedule "primary" yet, then one not synced yet: wait (short backoff).
    policy, error = await failing(escalationpolicy_create, policy, oncall_memo, kopf.TemporaryError)
    assert policy["status"]["phase"] == "Pending"
    assert ready(policy)["reason"] == "WaitingForSchedule"
    assert ready(policy)["message"] == 'spec.steps[0].targets[0].name: no OnCallSchedule "primary"'
    assert isinstance(error, kopf.TemporaryError)
    assert error.delay == 0.5  # RETRY_DELAY_SECONDS, doubling per retry
    schedule = schedule_object("primary", ["alice"])
    schedule_path = kube_apply(kube, schedule, "team-a")
    policy, _ = await failing(escalationpolicy_create, policy, oncall_memo, kopf.TemporaryError)
    assert "is not synced yet" in ready(policy)["message"]

    schedule, _ = await call(oncallschedule_create, schedule, oncall_memo)
    kube_put_status(kube, schedule_path, schedule["status"])
    schedule_id = schedule["status"]["syncedId"]
    policy, _ = await call(escalationpolicy_create, policy, oncall_memo)
    assert policy["status"]["phase"] == "Synced"
    assert crd_problems(policy) == []
    policy_id = policy["status"]["syncedId"]
    stored = (await service.get(f"/api/v1/escalation-policies/{policy_id}")).json()
    assert stored["name"] == "team-a/escalation"
    assert stored["repeat"] == 1
    assert stored["steps"] == [
        {"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule_id}]},
        {"delay_minutes": 10, "targets": [{"type": "user", "id": lead}]},
    ]

    # Update and resume: the same policy.
    policy["spec"]["steps"][1]["delayMinutes"] = 20
    policy, _ = await call(escalationpolicy_update, policy, oncall_memo)
    policy, _ = await call(escalationpolicy_resume, policy, oncall_memo)
    assert policy["status"]["syncedId"] == policy_id
    assert [p["id"] for p in await service_list(service, "escalation-policies")] == [policy_id]
    stored = (await service.get(f"/api/v1/escalation-policies/{policy_id}")).json()
    assert stored["steps"][1]["delay_minutes"] == 20

    # The schedule cannot go while the policy uses it: held, with the service's message.
    schedule, error = await failing(
        oncallschedule_delete, schedule, oncall_memo, kopf.TemporaryError
    )
    message = "schedule 'team-a/primary' is used by escalation policy team-a/escalation"
    assert str(error) == message
    assert ready(schedule)["reason"] == "InUse"
    assert ready(schedule)["message"] == message
    assert schedule["status"]["phase"] == "Synced"  # still true: it is still in the service
    assert crd_problems(schedule) == []

    # A policy a service is routed to cannot go either.
    route(oncall_api, "checkout", policy_id)
    policy, error = await failing(escalationpolicy_delete, policy, oncall_memo, kopf.TemporaryError)
    assert "routes service checkout" in str(error)
    assert ready(policy)["reason"] == "InUse"
    webhook = [{"type": "webhook", "url": "https://chat.example.com/hook"}]
    route(
        oncall_api,
        "checkout",
        create_policy(oncall_api, "other", [{"delay_minutes": 0, "targets": webhook}]),
    )

    # Deleting the policy first unblocks the schedule; deleting again finds both gone.
    await call(escalationpolicy_delete, policy, oncall_memo)
    assert (await service.get(f"/api/v1/escalation-policies/{policy_id}")).status_code == 404
    await call(oncallschedule_delete, schedule, oncall_memo)
    assert (await service.get(f"/api/v1/schedules/{schedule_id}")).status_code == 404
    await call(oncallschedule_delete, schedule, oncall_memo)  # 404: already gone, fine
    await call(escalationpolicy_delete, policy, oncall_memo)
