"""GET /api/v1/events against the real incident service and PostgreSQL."""

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.routes.test_incidents import open_incident
from support.platform import Platform
from support.services import ServiceProcess
from support.sse import Event, incidents_until, read_events, until


def incident_events(events: list[Event]) -> list[tuple[int, str]]:
    return [(e.json()["id"], e.json()["status"]) for e in events if e.event == "incident"]


def test_the_stream_is_declared_as_text_event_stream(platform: Platform) -> None:
    spec = httpx.get(platform.incidents.url + "/openapi.json").json()
    operation = spec["paths"]["/api/v1/events"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["text/event-stream"]
    assert any(p["name"] == "last-event-id" for p in operation["parameters"])


def _states(events: list[Event]) -> set[tuple[int, str]]:
    return set(incident_events(events))


def test_a_change_arrives_live_after_ready(
    incidents_api: httpx.Client, ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    incident_id = open_incident(ingest, generic_auth)
    with incidents_api.stream("GET", "/api/v1/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_events(response)
        ready = until(events, "ready")
        assert [e.event for e in ready] == ["ready"]  # nothing replayed without Last-Event-ID
        incidents_api.post(f"/api/v1/incidents/{incident_id}/acknowledge")
        live = incidents_until(events, lambda seen: (incident_id, "acknowledged") in _states(seen))
        event = live[-1]
        assert event.id == f"{event.json()['change_seq']}-{incident_id}"
        # (Its creation may come first, if it was still held back when the stream opened.)
        assert incident_events(live) in (
            [(incident_id, "acknowledged")],
            [(incident_id, "triggered"), (incident_id, "acknowledged")],
        )


def test_reconnecting_with_last_event_id_gets_every_missed_change_once(
    incidents_api: httpx.Client, ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    first = open_incident(ingest, generic_auth, service="a")
    with incidents_api.stream("GET", "/api/v1/events", headers={"Last-Event-ID": "0"}) as r:
        replayed = incidents_until(read_events(r), lambda seen: True)
    assert incident_events(replayed) == [(first, "triggered")]
    last_seen = replayed[-1].id
    assert last_seen is not None
    # While disconnected: two incidents change, one of them twice, and a new one opens.
    second = open_incident(ingest, generic_auth, service="b")
    incidents_api.post(f"/api/v1/incidents/{first}/acknowledge")
    incidents_api.post(f"/api/v1/incidents/{second}/acknowledge")
    incidents_api.post(f"/api/v1/incidents/{first}/resolve")
    third = open_incident(ingest, generic_auth, service="c")
    missed_states = [(second, "acknowledged"), (first, "resolved"), (third, "triggered")]
    with incidents_api.stream(
        "GET", "/api/v1/events", headers={"Last-Event-ID": last_seen}
    ) as response:
        events = read_events(response)
        missed = incidents_until(events, lambda seen: set(missed_states) <= _states(seen))
        # Each changed incident once, in its latest state, oldest change first.
        assert incident_events(missed) == missed_states
        # And then live, nothing twice.
        incidents_api.post(f"/api/v1/incidents/{third}/acknowledge")
        live = incidents_until(events, lambda seen: True)
        assert incident_events(live) == [(third, "acknowledged")]


def test_the_stream_needs_a_viewer_credential(platform: Platform) -> None:
    response = httpx.get(platform.incidents.url + "/api/v1/events")
    assert response.status_code == 401
    wrong = httpx.get(
        platform.incidents.url + "/api/v1/events", headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401


@pytest.mark.parametrize("last_event_id", ["abc", "12-", "-3", "1-2-3", "9" * 30])
def test_a_last_event_id_the_stream_never_sent_is_a_422(
    incidents_api: httpx.Client, last_event_id: str
) -> None:
    response = incidents_api.get("/api/v1/events", headers={"Last-Event-ID": last_event_id})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["header", "Last-Event-ID"]


@pytest.fixture
def notified_only_service(platform: Platform, logs_dir: Path) -> Iterator[ServiceProcess]:
    """An incident service whose fallback poll is a minute: only NOTIFY wakes it sooner."""
    env = {
        "DATABASE_URL": platform.database_url,
        "PLATFORM_ADMIN_TOKEN": platform.admin_token,
        "EVENTS_POLL_SECONDS": "60",
    }
    log = logs_dir / "incidents-no-poll.log"
    service = ServiceProcess(
        "incident_platform.entrypoints.incident_management", env, log_path=log
    ).start()
    service.wait_until("/readyz")
    yield service
    service.stop()


def test_a_change_made_by_another_process_wakes_the_stream_by_notify(
    platform: Platform,
    notified_only_service: ServiceProcess,
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
) -> None:
    url = notified_only_service.url + "/api/v1/events"
    # Read timeout well under the 60 s poll: the event must come from the notification
    # that the other process (the shared incident service) sends after its commit.
    with httpx.stream("GET", url, headers=platform.admin(), timeout=20) as response:
        events = read_events(response)
        until(events, "ready")
        incident_id = open_incident(ingest, generic_auth, service="notified")
        live = incidents_until(events, lambda seen: seen[-1].json()["id"] == incident_id)
        assert live[-1].json()["status"] == "triggered"
        incidents_api.post(f"/api/v1/incidents/{incident_id}/acknowledge")
        acked = incidents_until(events, lambda seen: True)
        assert incident_events(acked) == [(incident_id, "acknowledged")]


@pytest.fixture
def quick_incident_service(platform: Platform, logs_dir: Path) -> Iterator[ServiceProcess]:
    """One more incident service on the same database, with a short heartbeat."""
    env = {
        "DATABASE_URL": platform.database_url,
        "PLATFORM_ADMIN_TOKEN": platform.admin_token,
        "EVENTS_HEARTBEAT_SECONDS": "0.2",
    }
    log = logs_dir / "incidents-quick-heartbeat.log"
    service = ServiceProcess(
        "incident_platform.entrypoints.incident_management", env, log_path=log
    ).start()
    service.wait_until("/readyz")
    yield service
    service.stop()


def test_an_idle_stream_gets_heartbeats_and_ends_cleanly_on_shutdown(
    platform: Platform, quick_incident_service: ServiceProcess
) -> None:
    url = quick_incident_service.url + "/api/v1/events"
    with httpx.stream("GET", url, headers=platform.admin(), timeout=30) as response:
        events = read_events(response)
        until(events, "ready")
        heartbeat = next(events)
        assert heartbeat.comment
        process = quick_incident_service.process
        assert process is not None
        process.send_signal(signal.SIGTERM)
        # The stream ends as a complete response (no protocol error), and the process exits.
        assert all(event.comment for event in events)
    # uvicorn re-raises the signal it handled once it has shut down.
    assert process.wait(timeout=30) == -signal.SIGTERM
    assert quick_incident_service.log_path is not None
    log = quick_incident_service.log_path.read_text()
    assert "Application shutdown complete" in log
    assert "graceful shutdown exceeded" not in log
