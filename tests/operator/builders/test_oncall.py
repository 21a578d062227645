"""What the two on-call kinds share: names, user references, adoption, status patches."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from incident_operator.builders.oncall import (
    find_user,
    oncall_name,
    oncall_problem_status,
    oncall_synced_status,
    synced_id_claimed_by,
)
from incident_operator.builders.status import apply_merge_patch

REPO = Path(__file__).resolve().parents[3]
API = "incident-platform.io/v1alpha1"
Problems = Callable[[Mapping[str, Any]], list[str]]


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


def ready(obj: Mapping[str, Any]) -> dict[str, Any]:
    (found,) = [c for c in obj["status"]["conditions"] if c["type"] == "Ready"]
    return cast(dict[str, Any], found)


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
