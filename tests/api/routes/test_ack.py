from datetime import UTC, datetime, timedelta

import httpx
import pytest

from incident_platform.notification.signing import sign_ack_token
from support.platform import Platform


@pytest.fixture
def incident_id(ingest: httpx.Client, generic_auth: dict[str, str]) -> int:
    response = ingest.post(
        "/api/v1/alerts", json={"service": "checkout", "summary": "down"}, headers=generic_auth
    )
    return int(response.json()["incident_id"])


def link(platform: Platform, incident_id: int, expires: timedelta = timedelta(hours=1)) -> str:
    token = sign_ack_token(
        incident_id, datetime.now(UTC) + expires, platform.ack_signing_key.encode()
    )
    return f"{platform.oncall.url}/api/v1/ack/{token}"


def test_signed_link_acknowledges_its_incident_once(
    platform: Platform, incident_id: int, incidents_api: httpx.Client
) -> None:
    first = httpx.get(link(platform, incident_id))
    assert first.status_code == 200
    assert first.json()["status"] == "acknowledged"
    incident = incidents_api.get(f"/api/v1/incidents/{incident_id}").json()
    assert incident["status"] == "acknowledged"
    assert incident["timeline"][-1]["actor"] == "ack-link"
    again = httpx.get(link(platform, incident_id))
    assert again.status_code == 200
    assert "already acknowledged" in again.json()["message"]
    page = httpx.get(link(platform, incident_id), headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")


def test_tampered_expired_or_foreign_links_are_refused(
    platform: Platform, incident_id: int, incidents_api: httpx.Client
) -> None:
    good = link(platform, incident_id)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    expired = link(platform, incident_id, expires=timedelta(seconds=-1))
    forged = f"{platform.oncall.url}/api/v1/ack/" + sign_ack_token(
        incident_id, datetime.now(UTC) + timedelta(hours=1), b"not-the-key"
    )
    for url in (tampered, expired, forged, f"{platform.oncall.url}/api/v1/ack/garbage"):
        response = httpx.get(url)
        assert response.status_code == 403, url
    assert incidents_api.get(f"/api/v1/incidents/{incident_id}").json()["status"] == "triggered"


def test_link_for_a_resolved_incident_is_409(
    platform: Platform, incident_id: int, incidents_api: httpx.Client
) -> None:
    incidents_api.post(f"/api/v1/incidents/{incident_id}/resolve")
    response = httpx.get(link(platform, incident_id))
    assert response.status_code == 409
    assert response.json()["status"] == "resolved"
