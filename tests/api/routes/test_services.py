import httpx

from support.oncall import create_policy, create_user, route
from support.platform import Platform


def test_routed_services_are_listed_by_name_for_viewers(
    platform: Platform, oncall_api: httpx.Client
) -> None:
    assert oncall_api.get("/api/v1/services").json() == {"data": [], "count": 0}
    alice = create_user(oncall_api, "alice")
    first = create_policy(
        oncall_api, "first", [{"delay_minutes": 0, "targets": [{"type": "user", "id": alice}]}]
    )
    second = create_policy(
        oncall_api, "second", [{"delay_minutes": 0, "targets": [{"type": "user", "id": alice}]}]
    )
    route(oncall_api, "search", first)
    route(oncall_api, "checkout", first)
    route(oncall_api, "search", second)  # re-routing replaces, never duplicates

    viewer = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": "wallboard", "role": "viewer"},
        headers=platform.admin(),
    ).json()["token"]
    listed = httpx.get(
        platform.oncall.url + "/api/v1/services", headers={"Authorization": f"Bearer {viewer}"}
    )
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["count"] == 2
    assert [(r["service"], r["escalation_policy_id"]) for r in body["data"]] == [
        ("checkout", first),
        ("search", second),
    ]
    assert httpx.get(platform.oncall.url + "/api/v1/services").status_code == 401


def test_first_paged_resolves_the_first_step_only(oncall_api: httpx.Client) -> None:
    alice = create_user(oncall_api, "alice", [{"type": "email", "address": "alice@example.com"}])
    bob = create_user(oncall_api, "bob")
    steps = [
        {
            "delay_minutes": 0,
            "targets": [
                {"type": "user", "id": alice},
                {"type": "user", "id": bob},
                {"type": "webhook", "url": "https://hooks.example.test/page"},
            ],
        },
        {"delay_minutes": 10, "targets": [{"type": "user", "id": bob}]},
    ]
    policy = create_policy(oncall_api, "payments", steps)
    route(oncall_api, "checkout", policy)

    paged = oncall_api.get("/api/v1/oncall", params={"service": "checkout"})

    assert paged.status_code == 200, paged.text
    body = paged.json()
    assert body["service"] == "checkout"
    assert body["escalation_policy"] == {"id": policy, "name": "payments"}
    assert body["step"] == 1
    assert body["targets"] == [
        {
            "target": "alice (user)",
            "users": [{"id": alice, "name": "alice"}],
            "addresses": [{"channel": "email", "address": "alice@example.com"}],
            "problem": None,
        },
        {
            "target": "bob (user)",
            "users": [],
            "addresses": [],
            "problem": "bob has no contact methods",
        },
        {
            "target": "webhook https://hooks.example.test/page",
            "users": [],
            "addresses": [{"channel": "webhook", "address": "https://hooks.example.test/page"}],
            "problem": None,
        },
    ]


def test_routing_to_an_unknown_policy_is_422_and_writes_nothing(
    oncall_api: httpx.Client,
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    refused = oncall_api.put("/api/v1/services/search", json={"escalation_policy_id": missing})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "escalation_policy_id"]
    assert oncall_api.get("/api/v1/services").json() == {"data": [], "count": 0}
