"""/api/v1/tokens: admins mint role tokens shown once, list them masked, revoke them."""

import time

import httpx

from support.platform import Platform


def test_token_is_shown_once_listed_masked_and_works_for_its_role(
    platform: Platform, incidents_api: httpx.Client
) -> None:
    created = incidents_api.post("/api/v1/tokens", json={"name": " wallboard ", "role": "viewer"})
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["token"]
    assert token.startswith("ipt_v_")
    assert (body["name"], body["role"]) == ("wallboard", "viewer")

    listed = incidents_api.get("/api/v1/tokens").json()
    assert listed["count"] == 1
    (entry,) = listed["data"]
    assert entry["id"] == body["id"]
    assert entry["token_masked"] == token[:14] + "…"
    assert token not in str(listed)

    viewer = {"Authorization": f"Bearer {token}"}
    oncall = platform.oncall.url
    assert httpx.get(oncall + "/api/v1/users", headers=viewer).status_code == 200
    writing = httpx.post(
        oncall + "/api/v1/users", json={"name": "x", "email": "x@example.test"}, headers=viewer
    )
    assert writing.status_code == 403


def test_revoked_token_is_refused_and_unlisted(
    platform: Platform, incidents_api: httpx.Client
) -> None:
    created = incidents_api.post("/api/v1/tokens", json={"name": "ci", "role": "admin"}).json()
    admin = {"Authorization": f"Bearer {created['token']}"}
    url = platform.incidents.url + "/api/v1/tokens"
    assert httpx.get(url, headers=admin).status_code == 200

    assert incidents_api.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    # Immediate in the worker that revoked, within the cache lifetime (5 s) in the other:
    # poll rather than sleep a fixed time.
    for _ in range(100):
        status = httpx.get(url, headers=admin).status_code
        if status == 401:
            break
        time.sleep(0.1)
    assert status == 401
    assert incidents_api.get("/api/v1/tokens").json() == {"data": [], "count": 0}
    again = incidents_api.delete(f"/api/v1/tokens/{created['id']}")
    assert again.status_code == 404
    assert created["id"] in again.json()["detail"]


def test_only_admins_mint_and_bad_bodies_name_the_field(
    platform: Platform, incidents_api: httpx.Client
) -> None:
    responder = incidents_api.post(
        "/api/v1/tokens", json={"name": "r", "role": "responder"}
    ).json()["token"]
    refused = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": "escalate", "role": "admin"},
        headers={"Authorization": f"Bearer {responder}"},
    )
    assert refused.status_code == 403

    blank = incidents_api.post("/api/v1/tokens", json={"name": "  ", "role": "viewer"})
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["loc"] == ["body", "name"]
    unknown_role = incidents_api.post("/api/v1/tokens", json={"name": "t", "role": "root"})
    assert unknown_role.status_code == 422
    assert unknown_role.json()["detail"][0]["loc"] == ["body", "role"]
    assert [t["name"] for t in incidents_api.get("/api/v1/tokens").json()["data"]] == ["r"]
