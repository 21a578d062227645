"""Flap detection over the real ingestion service: a flapping alert stops opening
incidents, holds its incident open and its pages, and lets go once it settles."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from incident_platform.alert.ingest import sweep_quiet_flaps
from incident_platform.escalation.engine import update_all
from support.database import connect
from support.oncall import create_policy, create_schedule, create_user, daily_schedule, route
from support.platform import Platform, create_integration

# With Nagios's weights the sixth state of an alternating alert reaches 35.5 % (the fifth
# 29.9 %): the third resolution is the first that keeps its incident open.
INCIDENTS_BEFORE_FLAPPING = 3


def send(ingest: httpx.Client, auth: dict[str, str], status: str) -> dict[str, Any]:
    body = {"service": "flappy", "summary": "Link up/down", "fingerprint": "link", "status": status}
    response = ingest.post("/api/v1/alerts", json=body, headers=auth)
    assert response.status_code == 202, response.text
    return dict(response.json())


def incidents(platform: Platform) -> list[tuple[Any, ...]]:
    with connect(platform.database_url) as connection:
        rows = connection.execute(
            "SELECT id, status, flapping, alert_count FROM incidents WHERE service = 'flappy'"
            " ORDER BY id"
        ).fetchall()
    return [tuple(row) for row in rows]


def timeline_kinds(platform: Platform, incident_id: int) -> list[str]:
    with connect(platform.database_url) as connection:
        rows = connection.execute(
            "SELECT kind FROM timeline_events WHERE incident_id = %s ORDER BY id", (incident_id,)
        ).fetchall()
    return [str(row[0]) for row in rows]


def settle(platform: Platform, engine: Engine) -> None:
    """Two hours pass without a change: every check since saw the same state."""
    with connect(platform.database_url) as connection:
        connection.execute("UPDATE alert_flaps SET sampled_at = sampled_at - interval '2 hours'")
    sweep_quiet_flaps(engine)


def test_a_dozen_flaps_open_a_handful_of_incidents_and_a_dozen_more_none(
    ingest: httpx.Client, generic_auth: dict[str, str], platform: Platform, engine: Engine
) -> None:
    actions = []
    for _ in range(12):
        actions.append(send(ingest, generic_auth, "firing")["action"])
        actions.append(send(ingest, generic_auth, "resolved")["action"])
    opened = incidents(platform)
    assert len(opened) == INCIDENTS_BEFORE_FLAPPING
    assert actions[:6] == ["created", "resolved"] * 3
    assert actions[6:] == ["attached", "resolved"] * 9  # returns re-join the last incident
    assert [status for _, status, _, _ in opened] == ["resolved", "resolved", "triggered"]
    last_id, _, flapping, alert_count = opened[-1]
    assert flapping is True
    assert alert_count == 10
    kinds = timeline_kinds(platform, last_id)
    assert kinds.count("flapping_started") == 1
    assert "auto_resolved" not in kinds
    for _ in range(12):
        send(ingest, generic_auth, "firing")
        send(ingest, generic_auth, "resolved")
    assert incidents(platform) == [*opened[:-1], (last_id, "triggered", True, 22)]
    metrics = httpx.get(platform.ingestion.url + "/metrics").text
    assert "\nincidents_flapping 1.0\n" in metrics

    # Settled, it stops flapping, and the incident, whose alerts are all resolved, resolves.
    settle(platform, engine)
    assert incidents(platform)[-1][1:3] == ("resolved", False)
    assert timeline_kinds(platform, last_id)[-2:] == ["flapping_stopped", "auto_resolved"]
    assert "\nincidents_flapping 0.0\n" in httpx.get(platform.ingestion.url + "/metrics").text
    # Normal behaviour again: the next firing opens a new incident.
    assert send(ingest, generic_auth, "firing")["action"] == "created"


def test_alertmanager_webhooks_flap_the_same_way(ingest: httpx.Client, platform: Platform) -> None:
    auth = {"Authorization": f"Bearer {create_integration(platform, 'alertmanager')}"}

    def notify(status: str) -> None:
        alert = {
            "status": status,
            "labels": {"alertname": "LinkFlap", "service": "flappy"},
            "annotations": {"summary": "Link up/down"},
            "startsAt": "2026-12-02T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-02T10:01:00Z",
            "fingerprint": "0123456789abcdef",
        }
        body = {
            "version": "4",
            "receiver": "platform",
            "status": status,
            "groupKey": "{}:{}",
            "truncatedAlerts": 0,
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [alert],
        }
        response = ingest.post("/api/v1/integrations/alertmanager", json=body, headers=auth)
        assert response.status_code == 202, response.text

    for _ in range(12):
        notify("firing")
        notify("resolved")
    opened = incidents(platform)
    assert len(opened) == INCIDENTS_BEFORE_FLAPPING
    assert opened[-1][1:3] == ("triggered", True)
    for _ in range(12):
        notify("firing")
        notify("resolved")
    assert len(incidents(platform)) == INCIDENTS_BEFORE_FLAPPING


def test_pages_are_held_while_it_flaps_and_sent_once_it_stops(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    oncall_api: httpx.Client,
    platform: Platform,
    engine: Engine,
) -> None:
    alice = create_user(
        oncall_api, "alice", [{"type": "webhook", "address": "http://127.0.0.1:9/a"}]
    )
    schedule = create_schedule(
        oncall_api, daily_schedule("primary", [alice], start="2026-01-01T09:00:00+01:00")
    )
    policy = create_policy(
        oncall_api,
        "pager",
        [{"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule}]}],
    )
    route(oncall_api, "flappy", policy)
    for _ in range(4):
        send(ingest, generic_auth, "firing")
        send(ingest, generic_auth, "resolved")
    send(ingest, generic_auth, "firing")  # flapping, and firing
    now = datetime.now(UTC)
    report = update_all(engine, now + timedelta(minutes=1))
    assert report.held == 1
    assert report.steps_fired == 0

    def pages() -> Any:
        with connect(platform.database_url) as connection:
            return connection.execute("SELECT count(*) FROM notifications").fetchone()

    assert pages() == (0,)
    settle(platform, engine)
    assert incidents(platform)[-1][1:3] == ("triggered", False)  # its alert still fires
    report = update_all(engine, now + timedelta(minutes=2))
    assert report.steps_fired == 1
    assert pages() == (1,)
