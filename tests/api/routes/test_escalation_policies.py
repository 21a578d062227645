import httpx
import pytest

from support.oncall import create_policy, create_schedule, create_user, daily_schedule, route


def test_policy_round_trip_and_routing(oncall_api: httpx.Client) -> None:
    alice = create_user(
        oncall_api, "alice", [{"type": "webhook", "address": "https://hooks.example.com/a"}]
    )
    schedule = create_schedule(
        oncall_api, daily_schedule("primary", [alice], start="2026-01-01T09:00:00+01:00")
    )
    steps = [
        {"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule}]},
        {
            "delay_minutes": 10,
            "targets": [
                {"type": "user", "id": alice},
                {"type": "webhook", "url": "https://chat.example.com/hook"},
            ],
        },
    ]
    policy = create_policy(oncall_api, "checkout", steps, repeat=2)
    stored = oncall_api.get(f"/api/v1/escalation-policies/{policy}").json()
    assert (stored["steps"], stored["repeat"]) == (steps, 2)
    route(oncall_api, "checkout", policy)
    paged = oncall_api.get("/api/v1/oncall", params={"service": "checkout"}).json()
    assert paged["escalation_policy"]["name"] == "checkout"
    assert paged["targets"][0]["users"] == [{"id": alice, "name": "alice"}]
    assert paged["targets"][0]["addresses"] == [
        {"channel": "webhook", "address": "https://hooks.example.com/a"}
    ]
    deleting = oncall_api.delete(f"/api/v1/escalation-policies/{policy}")
    assert deleting.status_code == 409
    assert deleting.json()["detail"]["services"] == ["checkout"]
    assert oncall_api.get("/api/v1/oncall", params={"service": "unrouted"}).status_code == 404


@pytest.mark.parametrize(
    ("steps", "repeat", "location"),
    [
        (
            [{"delay_minutes": -1, "targets": [{"type": "webhook", "url": "https://x.io"}]}],
            0,
            ["body", "steps", 0, "delay_minutes"],
        ),
        (
            [{"delay_minutes": 0, "targets": [{"type": "webhook", "url": "not a url"}]}],
            0,
            ["body", "steps", 0, "targets", 0, "webhook", "url"],
        ),
        ([{"delay_minutes": 0, "targets": []}], 0, ["body", "steps", 0, "targets"]),
        ([], 0, ["body", "steps"]),
        (
            [{"delay_minutes": 0, "targets": [{"type": "webhook", "url": "https://x.io"}]}],
            11,
            ["body", "repeat"],
        ),
    ],
)
def test_bad_policy_is_422_naming_the_field(
    oncall_api: httpx.Client, steps: list[object], repeat: int, location: list[object]
) -> None:
    response = oncall_api.post(
        "/api/v1/escalation-policies", json={"name": "bad", "steps": steps, "repeat": repeat}
    )
    assert response.status_code == 422, response.text
    assert location in [error["loc"] for error in response.json()["detail"]], response.json()
    assert oncall_api.get("/api/v1/escalation-policies").json()["count"] == 0


def test_unknown_targets_are_422_naming_them(oncall_api: httpx.Client) -> None:
    missing = "4f1c6a33-0000-4000-8000-000000000000"
    for kind in ("user", "schedule"):
        response = oncall_api.post(
            "/api/v1/escalation-policies",
            json={
                "name": "x",
                "steps": [{"delay_minutes": 0, "targets": [{"type": kind, "id": missing}]}],
            },
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "steps", 0, "targets", 0, "id"]


def test_routing_to_an_unknown_policy_is_422(oncall_api: httpx.Client) -> None:
    response = oncall_api.put(
        "/api/v1/services/checkout",
        json={"escalation_policy_id": "4f1c6a33-0000-4000-8000-000000000000"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "escalation_policy_id"]
