"""What the two on-call kinds share: names, user references, adoption, status patches."""

from __future__ import annotations

import pytest

from incident_operator.builders.oncall import (
    find_user,
    oncall_name,
    oncall_problem_status,
    oncall_synced_status,
    synced_id_claimed_by,
)
from incident_operator.builders.status import apply_merge_patch
from support.operator import (
    Problems,
    example,
    fake_users,
    placed,
    policy_object,
    ready,
    schedule_object,
    user_id,
)


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
