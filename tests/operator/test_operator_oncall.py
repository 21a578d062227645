"""On-call as code: OnCallSchedule and EscalationPolicy objects synced to the on-call service.

Three levels: the pure builders (every body they build is validated against the on-call
service's own request models, so the operator speaks the service's language); the handlers
called directly against the real services and the emulated Kubernetes API; and the whole
operator under ``KopfRunner`` applying the examples in ``examples/``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import kopf
import pytest
import pytest_asyncio
import yaml
from kopf.testing import KopfRunner
from pydantic import SecretStr

from incident_operator.builders import (
    UnresolvedReferences,
    apply_merge_patch,
    find_user,
    oncall_name,
    oncall_problem_status,
    oncall_synced_status,
    policy_request,
    policy_schedule_references,
    schedule_request,
    synced_id_claimed_by,
)
from incident_operator.client import (
    OnCallClient,
    OnCallInUse,
    OnCallNameRefused,
    OnCallNotFound,
    PlatformRejected,
    PlatformUnavailable,
)
from incident_operator.escalationpolicy import (
    escalationpolicy_create,
    escalationpolicy_delete,
    escalationpolicy_resume,
    escalationpolicy_update,
)
from incident_operator.oncallschedule import (
    MEMO_KEY,
    NameTaken,
    OnCallSync,
    oncallschedule_create,
    oncallschedule_delete,
    oncallschedule_resume,
    oncallschedule_update,
)
from incident_operator.settings import Config, oncall_sync_enabled
from incident_platform.escalation.models import EscalationPolicyModel
from incident_platform.schedule.models import ScheduleModel
from support.oncall import create_policy, create_user, daily_schedule, route
from support.oncall import create_schedule as create_service_schedule
from support.platform import Platform
from support.services import free_port

REPO = Path(__file__).resolve().parents[2]
LOGGER = logging.getLogger("tests.operator.oncall")
API = "incident-platform.io/v1alpha1"
BASE = f"/apis/{API}/namespaces"
MERGE = {"Content-Type": "application/merge-patch+json"}
# Who the examples name (create_user makes "<name>@example.com"; "carol" is named by name).
EXAMPLE_USERS = ("alice", "bob", "carol", "sre-dana", "sre-eve", "frank", "grace", "lead", "cto")

T = TypeVar("T")
Problems = Callable[[Mapping[str, Any]], list[str]]
RunOperator = Callable[..., AbstractContextManager[KopfRunner]]
Handler = Callable[..., Any]


@pytest.fixture
def kube(oncall_kube: httpx.Client) -> httpx.Client:
    """Every test here uses the emulator that serves the on-call kinds (``run_operator`` and
    ``kube_connection`` included)."""
    return oncall_kube


# --- Helpers ------------------------------------------------------------------------------------


def example(name: str) -> dict[str, Any]:
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
    return [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, n)), "name": n, "email": f"{n}@example.com"}
        for n in names
    ]


def user_id(users: list[dict[str, Any]], name: str) -> str:
    (found,) = [u["id"] for u in users if u["name"] == name]
    return str(found)


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


def policy_object(object_name: str, steps: list[dict[str, Any]], /, **spec: Any) -> dict[str, Any]:
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


@pytest_asyncio.fixture
async def service(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The on-call service's HTTP API as an admin, for the async tests."""
    async with httpx.AsyncClient(
        base_url=platform.oncall.url, timeout=30, headers=platform.admin()
    ) as client:
        yield client


async def service_list(api: httpx.AsyncClient, collection: str) -> list[dict[str, Any]]:
    response = await api.get(f"/api/v1/{collection}")
    assert response.status_code == 200, response.text
    return cast(list[dict[str, Any]], response.json()["data"])


def service_items(api: httpx.Client, collection: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/{collection}")
    assert response.status_code == 200, response.text
    return cast(list[dict[str, Any]], response.json()["data"])


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


def phase_is(kube: httpx.Client, path: str, phase: str) -> Callable[[], bool]:
    return lambda: kube_status(kube, path).get("phase") == phase


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


# --- 1. Pure builders ---------------------------------------------------------------------------


def test_the_name_in_the_service_is_spec_name_else_namespaced() -> None:
    assert oncall_name(placed(example("oncallschedule.yaml"), "payments")) == "payments-primary"
    policy = placed(example("escalationpolicy.yaml"), "payments")
    assert oncall_name(policy) == "payments/payments-escalation"
    policy["spec"]["name"] = "  "
    assert oncall_name(policy) == "payments/payments-escalation"


def test_users_are_found_by_email_first_then_by_name() -> None:
    users = [
        *fake_users("alice", "bob"),
        # Someone whose *name* is bob's e-mail address: the e-mail wins.
        {"id": "name-is-an-email", "name": "bob@example.com", "email": "other@example.com"},
        {"id": "sam-1", "name": "sam", "email": "sam.one@example.com"},
        {"id": "sam-2", "name": "sam", "email": "sam.two@example.com"},
    ]
    assert find_user("alice@example.com", users) == user_id(users, "alice")
    assert find_user("Alice@Example.COM", users) == user_id(users, "alice")
    assert find_user("bob@example.com", users) == user_id(users, "bob")
    assert find_user("alice", users) == user_id(users, "alice")
    assert find_user("sam.two@example.com", users) == "sam-2"
    with pytest.raises(LookupError, match=r'^no user "dave@example.com"$'):
        find_user("dave@example.com", users)
    with pytest.raises(LookupError, match=r'user name "sam" is ambiguous \(2 users'):
        find_user("sam", users)


def test_the_example_schedule_becomes_the_services_schedule_json() -> None:
    users = fake_users(*EXAMPLE_USERS)
    built = schedule_request(placed(example("oncallschedule.yaml"), "payments"), users)
    model = ScheduleModel.model_validate(built)  # the on-call service's own request model
    assert model.name == "payments-primary"
    assert model.timezone == "Europe/Berlin"
    assert [layer.name for layer in model.layers] == ["weekly", "weekend-cover", "follow-the-sun"]
    assert built["layers"][0]["users"] == [
        user_id(users, "alice"),
        user_id(users, "bob"),
        user_id(users, "carol"),  # referenced by name
    ]
    assert built["layers"][0]["rotation"] == {
        "type": "weekly",
        "handoff_time": "09:00",
        "handoff_day": "monday",
    }
    assert built["layers"][1]["restrictions"] == [
        {"days": ["sat", "sun"], "start": "08:00", "end": "20:00"}
    ]
    assert built["layers"][2]["rotation"] == {"type": "custom", "shift_hours": 12}
    assert built["layers"][2]["start"] == "2026-11-02T00:00:00Z"


def test_a_schedule_gets_defaults_and_only_its_rotation_types_keys() -> None:
    users = fake_users("alice")
    obj = schedule_object("s", ["alice"])
    del obj["spec"]["timezone"]  # the CRD defaults it; an emulator does not
    obj["spec"]["layers"][0]["rotation"] = {
        "type": "daily",
        "handoff_time": "07:30",
        "handoff_day": "friday",  # the CRD's oneOf lets it through, the service would not
        "shift_hours": 8,
    }
    built = schedule_request(obj, users)
    ScheduleModel.model_validate(built)
    assert built == {
        "name": "team-a/s",
        "timezone": "UTC",
        "layers": [
            {
                "name": "primary",
                "users": [user_id(users, "alice")],
                "start": "2026-01-05T09:00:00+01:00",
                "rotation": {"type": "daily", "handoff_time": "07:30"},
                "restrictions": [],
            }
        ],
    }


def test_unresolved_users_are_named_by_field() -> None:
    obj = placed(example("oncallschedule.yaml"), "payments")
    obj["spec"]["layers"][0]["users"][1] = "dave@example.com"
    obj["spec"]["layers"][2]["users"][0] = "nobody"
    with pytest.raises(UnresolvedReferences) as raised:
        schedule_request(obj, fake_users(*EXAMPLE_USERS))
    assert raised.value.problems == [
        'spec.layers[0].users[1]: no user "dave@example.com"',
        'spec.layers[2].users[0]: no user "nobody"',
    ]
    assert (raised.value.users, raised.value.schedules) == (2, 0)


def test_the_example_policy_becomes_the_services_policy_json() -> None:
    users = fake_users(*EXAMPLE_USERS)
    obj = placed(example("escalationpolicy.yaml"), "payments")
    assert policy_schedule_references(obj) == [
        ("spec.steps[0].targets[0].name", "payments-primary")
    ]
    schedule_id = str(uuid.uuid4())
    built = policy_request(obj, users, {"payments-primary": schedule_id})
    model = EscalationPolicyModel.model_validate(built)  # the service's own request model
    assert model.name == "payments/payments-escalation"
    assert model.repeat == 2
    assert built["steps"] == [
        {"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule_id}]},
        {"delay_minutes": 15, "targets": [{"type": "user", "id": user_id(users, "lead")}]},
        {
            "delay_minutes": 30,
            "targets": [
                {"type": "webhook", "url": "https://chat.example.com/hooks/payments-incidents"},
                {"type": "user", "id": user_id(users, "cto")},
            ],
        },
    ]


def test_a_policy_without_repeat_repeats_zero_times() -> None:
    obj = policy_object("p", [{"delayMinutes": 0, "targets": [{"type": "user", "name": "bob"}]}])
    built = policy_request(obj, fake_users("bob"), {})
    EscalationPolicyModel.model_validate(built)
    assert built["repeat"] == 0
    assert built["name"] == "team-a/p"


def test_unresolved_policy_targets_tell_schedules_from_users() -> None:
    steps = [
        {"delayMinutes": 0, "targets": [{"type": "schedule", "name": "missing"}]},
        {"delayMinutes": 5, "targets": [{"type": "schedule", "name": "unsynced"}]},
        {"delayMinutes": 5, "targets": [{"type": "user", "name": "ghost@example.com"}]},
    ]
    obj = policy_object("p", steps)
    with pytest.raises(UnresolvedReferences) as raised:
        policy_request(obj, fake_users("bob"), {"unsynced": None})
    assert raised.value.problems == [
        'spec.steps[0].targets[0].name: no OnCallSchedule "missing"',
        'spec.steps[1].targets[0].name: OnCallSchedule "unsynced" is not synced yet',
        'spec.steps[2].targets[0].name: no user "ghost@example.com"',
    ]
    assert (raised.value.schedules, raised.value.users) == (2, 1)


def test_an_existing_id_is_adopted_only_when_no_other_object_owns_it() -> None:
    me = schedule_object("mine", ["a"])
    other = schedule_object("other", ["a"])
    other["metadata"]["namespace"] = "team-b"
    other["status"] = {"syncedId": "id-1"}
    mine_with_status = {**me, "status": {"syncedId": "id-2"}}
    assert synced_id_claimed_by([other, mine_with_status], "id-1", me) == "team-b/other"
    assert synced_id_claimed_by([other, mine_with_status], "id-2", me) is None
    assert synced_id_claimed_by([], "id-1", me) is None


def test_status_patches_fit_the_crds(crd_problems: Problems) -> None:
    step = {"delayMinutes": 0, "targets": [{"type": "user", "name": "a"}]}
    for obj in (schedule_object("s", ["a"]), policy_object("p", [step])):
        synced = oncall_synced_status(obj, synced_id="abc", name="team-a/x")
        assert synced["phase"] == "Synced"
        assert synced["observedGeneration"] == 1
        after_sync = apply_merge_patch(obj, {"status": synced})
        assert crd_problems(after_sync) == []
        failed = oncall_problem_status(
            after_sync, reason="UnresolvedUser", message="no user", phase="Failed"
        )
        after_failure = apply_merge_patch(after_sync, {"status": failed})
        assert crd_problems(after_failure) == []
        assert after_failure["status"]["syncedId"] == "abc"  # the service still has it
        assert ready(after_failure)["status"] == "False"
        blocked = oncall_problem_status(after_failure, reason="InUse", message="x", phase=None)
        assert "phase" not in blocked


def test_on_call_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONCALL_API_TOKEN", raising=False)
    assert not oncall_sync_enabled()
    monkeypatch.setenv("ONCALL_API_TOKEN", "   ")
    assert not oncall_sync_enabled()
    config = Config(platform_integration_key="k", platform_api_token="t")
    assert config.oncall_api_token is None
    assert config.oncall_url == "http://127.0.0.1:8003"
    assert config.oncall_unresolved_retry_seconds == 300
    monkeypatch.setenv("ONCALL_API_TOKEN", "ipt_a-secret")
    monkeypatch.setenv("ONCALL_URL", "http://oncall.example:8003/")
    assert oncall_sync_enabled()
    config = Config(platform_integration_key="k", platform_api_token="t")
    assert config.oncall_api_token == SecretStr("ipt_a-secret")
    assert config.oncall_url == "http://oncall.example:8003"


@pytest.mark.asyncio
async def test_the_client_tells_the_answers_the_sync_acts_on_apart() -> None:
    answers: dict[str, httpx.Response] = {
        "/api/v1/schedules/gone": httpx.Response(404, json={"detail": "schedule gone"}),
        "/api/v1/schedules/used": httpx.Response(
            409, json={"detail": {"message": "schedule 'x' is used by escalation policy p"}}
        ),
        "/api/v1/schedules": httpx.Response(
            422,
            json={"detail": [{"loc": ["body", "name"], "msg": "taken", "type": "value_error"}]},
        ),
        "/api/v1/escalation-policies": httpx.Response(
            422,
            json={"detail": [{"loc": ["body", "repeat"], "msg": "bad", "type": "value_error"}]},
        ),
        "/api/v1/users": httpx.Response(503, headers={"Retry-After": "7"}, json={"detail": "db"}),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path]

    config = Config(
        platform_integration_key="k", platform_api_token="t", oncall_api_token="ipt_a-x"
    )
    client = OnCallClient(config, transport=httpx.MockTransport(answer))
    try:
        assert await client.delete("schedules", "gone") is False
        with pytest.raises(OnCallNotFound):
            await client.replace("schedules", "gone", {})
        with pytest.raises(OnCallInUse, match="used by escalation policy p"):
            await client.delete("schedules", "used")
        with pytest.raises(OnCallNameRefused, match="name: taken"):
            await client.create("schedules", {})
        with pytest.raises(PlatformRejected) as rejected:
            await client.create("escalation-policies", {})
        assert type(rejected.value) is PlatformRejected
        with pytest.raises(PlatformUnavailable) as unavailable:
            await client.users()
        assert unavailable.value.delay == 7
    finally:
        await client.aclose()
    with pytest.raises(ValueError, match="ONCALL_API_TOKEN"):
        OnCallClient(Config(platform_integration_key="k", platform_api_token="t"))


# --- 2. The handlers, called directly, against the real services -------------------------------


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


# --- 3. The whole operator ----------------------------------------------------------------------


def users_for_examples(api: httpx.Client) -> dict[str, str]:
    return {name: create_user(api, name) for name in EXAMPLE_USERS}


def test_the_examples_are_synced_and_deleted_through_kubernetes(
    oncall_environment: Config,
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


def test_a_restart_resyncs_without_duplicates_and_heals_unknown_users(
    oncall_environment: Config,
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
