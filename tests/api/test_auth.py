"""Who may do what: 401 without or with a wrong credential, 403 with the wrong one."""

import httpx
import pytest

from support.platform import Platform, create_integration


def make_token(platform: Platform, role: str) -> dict[str, str]:
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": f"{role}-bot", "role": role},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}],
)
def test_missing_or_wrong_credentials_are_401(
    platform: Platform, ingest: httpx.Client, headers: dict[str, str]
) -> None:
    alert = {"service": "a", "summary": "b"}
    assert ingest.post("/api/v1/alerts", json=alert, headers=headers).status_code == 401
    assert ingest.get("/api/v1/integrations", headers=headers).status_code == 401
    response = httpx.get(platform.incidents.url + "/api/v1/incidents", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_integration_key_of_another_kind_is_403(platform: Platform, ingest: httpx.Client) -> None:
    am_key = create_integration(platform, "alertmanager")
    generic_key = create_integration(platform, "generic")
    alert = {"service": "a", "summary": "b"}
    response = ingest.post(
        "/api/v1/alerts", json=alert, headers={"Authorization": f"Bearer {am_key}"}
    )
    assert response.status_code == 403
    assert "alertmanager" in response.json()["detail"]
    webhook = ingest.post(
        "/api/v1/integrations/alertmanager",
        json={"alerts": []},
        headers={"Authorization": f"Bearer {generic_key}"},
    )
    assert webhook.status_code == 403


def test_roles(platform: Platform, ingest: httpx.Client, generic_auth: dict[str, str]) -> None:
    incident_id = ingest.post(
        "/api/v1/alerts", json={"service": "a", "summary": "b"}, headers=generic_auth
    ).json()["incident_id"]
    viewer = make_token(platform, "viewer")
    responder = make_token(platform, "responder")
    api = platform.incidents.url + "/api/v1"
    assert httpx.get(f"{api}/incidents", headers=viewer).status_code == 200
    assert httpx.get(f"{api}/stats", headers=viewer).status_code == 200
    assert httpx.post(f"{api}/incidents/{incident_id}/acknowledge", headers=viewer).status_code == (
        403
    )
    assert (
        httpx.post(
            f"{api}/incidents/{incident_id}/notes", json={"text": "x"}, headers=viewer
        ).status_code
        == 403
    )
    assert (
        httpx.post(f"{api}/incidents/{incident_id}/acknowledge", headers=responder).status_code
        == 200
    )
    token_request = {"name": "x", "role": "viewer"}
    assert httpx.post(f"{api}/tokens", json=token_request, headers=responder).status_code == 403
    assert ingest.get("/api/v1/integrations", headers=responder).status_code == 403
    assert ingest.get("/api/v1/alerts", headers=viewer).status_code == 200
    # An integration key is for sending alerts, not for reading incidents.
    assert httpx.get(f"{api}/incidents", headers=generic_auth).status_code == 401


def test_tokens_are_listed_masked_and_revocable(platform: Platform) -> None:
    viewer = make_token(platform, "viewer")
    api = platform.incidents.url + "/api/v1"
    listed = httpx.get(f"{api}/tokens", headers=platform.admin()).json()
    assert listed["count"] == 1
    secret = viewer["Authorization"].removeprefix("Bearer ")
    assert secret not in str(listed)
    token_id = listed["data"][0]["id"]
    assert httpx.delete(f"{api}/tokens/{token_id}", headers=platform.admin()).status_code == 204
    assert httpx.delete(f"{api}/tokens/{token_id}", headers=platform.admin()).status_code == 404


def test_credentials_never_reach_the_logs(platform: Platform, ingest: httpx.Client) -> None:
    key = create_integration(platform, "generic")
    ingest.post(
        "/api/v1/alerts",
        json={"service": "a", "summary": "b"},
        headers={"Authorization": f"Bearer {key}"},
    )
    ingest.post("/api/v1/alerts", json={}, headers={"Authorization": f"Bearer {key}x"})
    for service in (platform.ingestion, platform.incidents):
        assert service.log_path is not None
        text = service.log_path.read_text()
        assert key not in text
        assert platform.admin_token not in text
