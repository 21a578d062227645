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
