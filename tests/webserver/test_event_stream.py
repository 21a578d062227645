"""The incident event stream through :8080: unbuffered, resumable, the service's own auth."""

import httpx

from api.routes.test_incidents import open_incident
from support.platform import Platform
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
