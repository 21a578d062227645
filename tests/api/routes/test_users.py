import httpx
import pytest

from support.oncall import create_policy, create_schedule, create_user, daily_schedule


def test_user_round_trip(oncall_api: httpx.Client) -> None:
    methods = [
        {"type": "webhook", "address": "https://hooks.example.com/alice"},
        {"type": "slack", "address": "https://hooks.slack.com/services/T/B/X"},
        {"type": "email", "address": "alice@example.com"},
    ]
    user_id = create_user(oncall_api, "alice", methods)
    user = oncall_api.get(f"/api/v1/users/{user_id}").json()
    assert user["contact_methods"] == methods
    assert user["timezone"] == "Europe/Paris"
    updated = oncall_api.put(
        f"/api/v1/users/{user_id}",
        json={"name": "Alice A.", "email": "alice@example.com", "timezone": "UTC"},
    )
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["contact_methods"]) == ("Alice A.", [])
    assert oncall_api.get("/api/v1/users").json()["count"] == 1
    assert oncall_api.delete(f"/api/v1/users/{user_id}").status_code == 204
    assert oncall_api.get(f"/api/v1/users/{user_id}").status_code == 404


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, ["body", "timezone"]),
        ({"email": "not-an-address"}, ["body", "email"]),
        ({"name": ""}, ["body", "name"]),
        (
            {"contact_methods": [{"type": "webhook", "address": "ftp://x"}]},
            ["body", "contact_methods", 0, "address"],
        ),
        (
            {"contact_methods": [{"type": "email", "address": "nope"}]},
            ["body", "contact_methods", 0, "address"],
        ),
        (
            {"contact_methods": [{"type": "pager", "address": "x"}]},
            ["body", "contact_methods", 0, "type"],
        ),
    ],
)
def test_bad_user_is_422_naming_the_field(
    oncall_api: httpx.Client, change: dict[str, object], location: list[object]
) -> None:
    body = {"name": "x", "email": "x@example.com", "timezone": "UTC", **change}
    response = oncall_api.post("/api/v1/users", json=body)
    assert response.status_code == 422
    assert location in [error["loc"] for error in response.json()["detail"]]
    assert oncall_api.get("/api/v1/users").json()["count"] == 0


def test_duplicate_email_is_422(oncall_api: httpx.Client) -> None:
    create_user(oncall_api, "alice")
    again = oncall_api.post("/api/v1/users", json={"name": "other", "email": "alice@example.com"})
    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "email"]


def test_user_still_paged_cannot_be_deleted(oncall_api: httpx.Client) -> None:
    alice = create_user(oncall_api, "alice")
    bob = create_user(oncall_api, "bob")
    create_schedule(oncall_api, daily_schedule("primary", [alice]))
    create_policy(
        oncall_api, "backup", [{"delay_minutes": 0, "targets": [{"type": "user", "id": bob}]}]
    )
    for user_id, place in ((alice, "schedule primary"), (bob, "policy backup")):
        response = oncall_api.delete(f"/api/v1/users/{user_id}")
        assert response.status_code == 409
        assert place in response.json()["detail"]["message"]
