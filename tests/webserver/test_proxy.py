"""Forwarding through :8080: bodies, queries and the services' own answers passed on, a
service that is down as a 503, and the incident event stream unbuffered and resumable."""

import httpx
import pytest

from api.routes.test_incidents import open_incident
from support.platform import Platform
from support.services import ServiceProcess
from support.sse import incidents_until, read_events, until
from webserver.test_app import assert_security_headers


def test_events_pass_through_unbuffered_and_resume(
    web: httpx.Client, platform: Platform, ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    incident_id = open_incident(ingest, generic_auth)
    with web.stream("GET", "/api/v1/events", headers=platform.admin()) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert_security_headers(response)
        events = read_events(response)
        until(events, "ready")
        # The stream is still open: an event only arrives if each chunk is relayed at once.
        web.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=platform.admin())
        acknowledged = incidents_until(
            events, lambda seen: seen[-1].json()["status"] == "acknowledged"
        )[-1]
    web.post(f"/api/v1/incidents/{incident_id}/resolve", headers=platform.admin())
    # Last-Event-ID is an end-to-end header: the proxy passes it on.
    assert acknowledged.id is not None
    with web.stream(
        "GET",
        "/api/v1/events",
        headers={**platform.admin(), "Last-Event-ID": acknowledged.id},
    ) as response:
        missed = incidents_until(read_events(response), lambda seen: True)
    assert [e.json()["status"] for e in missed] == ["resolved"]


def test_the_stream_without_a_token_is_the_services_401(web: httpx.Client) -> None:
    response = web.get("/api/v1/events")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_writes_and_their_bodies_are_forwarded(web: httpx.Client, platform: Platform) -> None:
    created = web.post(
        "/api/v1/integrations",
        headers=platform.admin(),
        json={"name": "through-the-web-server", "kind": "generic"},
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    alert = web.post(
        "/api/v1/alerts",
        headers={"Authorization": f"Bearer {key}"},
        json={"service": "checkout", "summary": "through :8080", "severity": "critical"},
    )
    assert alert.status_code == 202, alert.text
    incident_id = alert.json()["incident_id"]
    acknowledged = web.post(
        f"/api/v1/incidents/{incident_id}/acknowledge", headers=platform.admin()
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["status"] == "acknowledged"
    # The query string is forwarded too.
    listed = web.get("/api/v1/incidents", params={"status": "resolved"}, headers=platform.admin())
    assert listed.json()["count"] == 0


def test_pagerduty_events_reach_ingestion(web: httpx.Client, platform: Platform) -> None:
    created = web.post(
        "/api/v1/integrations", headers=platform.admin(), json={"name": "pd", "kind": "pagerduty"}
    )
    assert created.status_code == 201, created.text
    event = {
        "routing_key": created.json()["key"],
        "event_action": "trigger",
        "payload": {"summary": "disk full", "source": "db-1", "severity": "error"},
    }
    accepted = web.post("/v2/enqueue", json=event)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "success"
    assert_security_headers(accepted)
    refused = web.post("/v2/enqueue", json={**event, "routing_key": "unknown"})
    # Ingestion's own answer, in PagerDuty's shape: the web server neither accepts nor adds.
    assert refused.status_code == 400
    assert refused.json()["errors"] == ["routing_key: invalid routing key"]


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/alerts", "/api/v1/users"])
def test_no_credential_is_the_services_401(
    web: httpx.Client, platform: Platform, path: str
) -> None:
    response = web.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "bearer" in response.json()["detail"]
    assert_security_headers(response)
    wrong = web.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401


def test_a_service_that_is_down_is_a_503_with_retry_after(
    platform: Platform, web_without_oncall: ServiceProcess
) -> None:
    with httpx.Client(base_url=web_without_oncall.url, timeout=30) as client:
        down = client.get("/api/v1/users", headers=platform.admin())
        assert down.status_code == 503
        assert int(down.headers["retry-after"]) >= 1
        assert "unavailable" in down.json()["detail"]
        assert_security_headers(down)
        # Only what depends on it: the other services and the bundle still answer.
        assert client.get("/api/v1/incidents", headers=platform.admin()).status_code == 200
        assert client.get("/").status_code == 200
