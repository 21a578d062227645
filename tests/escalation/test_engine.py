"""The escalation engine on a controllable clock, against the real database."""

import threading
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from incident_platform.db import make_engine
from incident_platform.escalation.engine import START_LOCK, update_all
from incident_platform.settings import Settings
from support.database import connect
from support.oncall import create_policy, create_schedule, create_user, daily_schedule, route
from support.platform import Platform


@pytest.fixture
def paging(oncall_api: httpx.Client) -> dict[str, str]:
    alice = create_user(
        oncall_api, "alice", [{"type": "webhook", "address": "http://127.0.0.1:9/alice"}]
    )
    bob = create_user(
        oncall_api,
        "bob",
        [
            {"type": "webhook", "address": "http://127.0.0.1:9/bob"},
            {"type": "email", "address": "bob@example.com"},
        ],
    )
    # Alice is on call all the time (one user in the rotation).
    schedule = create_schedule(
        oncall_api, daily_schedule("primary", [alice], start="2026-01-01T09:00:00+01:00")
    )
    policy = create_policy(
        oncall_api,
        "checkout",
        [
            {"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule}]},
            {"delay_minutes": 5, "targets": [{"type": "user", "id": bob}]},
        ],
        repeat=1,
    )
    route(oncall_api, "checkout", policy)
    return {"alice": alice, "bob": bob, "schedule": schedule, "policy": policy}


def open_incident(
    platform: Platform, auth: dict[str, str], service: str = "checkout"
) -> tuple[int, datetime]:
    response = httpx.post(
        platform.ingestion.url + "/api/v1/alerts",
        json={"service": service, "summary": "Checkout down", "severity": "critical"},
        headers=auth,
    )
    incident_id = int(response.json()["incident_id"])
    with connect(platform.database_url) as connection:
        row = connection.execute(
            "SELECT created_at FROM incidents WHERE id = %s", (incident_id,)
        ).fetchone()
    assert row is not None
    created = row[0]
    assert isinstance(created, datetime)
    return incident_id, created


def notifications(platform: Platform, incident_id: int) -> list[tuple[object, ...]]:
    with connect(platform.database_url) as connection:
        return connection.execute(
            "SELECT n.step, u.name, n.channel, n.address FROM notifications n"
            " LEFT JOIN users u ON u.id = n.user_id WHERE n.incident_id = %s ORDER BY n.id",
            (incident_id,),
        ).fetchall()


def timeline(platform: Platform, incident_id: int, kind: str) -> list[str]:
    with connect(platform.database_url) as connection:
        rows = connection.execute(
            "SELECT message FROM timeline_events WHERE incident_id = %s AND kind = %s ORDER BY id",
            (incident_id, kind),
        ).fetchall()
    return [str(row[0]) for row in rows]


def test_steps_fire_at_their_delay_and_a_rerun_notifies_nobody_twice(
    platform: Platform, generic_auth: dict[str, str], paging: dict[str, str], engine: Engine
) -> None:
    incident_id, opened = open_incident(platform, generic_auth)
    update_all(engine, opened + timedelta(seconds=1))
    assert notifications(platform, incident_id) == [
        (1, "alice", "webhook", "http://127.0.0.1:9/alice")
    ]
    update_all(engine, opened + timedelta(seconds=2))
    update_all(engine, opened + timedelta(minutes=4))
    assert len(notifications(platform, incident_id)) == 1
    update_all(engine, opened + timedelta(minutes=5, seconds=1))
    assert notifications(platform, incident_id)[1:] == [
        (2, "bob", "webhook", "http://127.0.0.1:9/bob"),
        (2, "bob", "email", "bob@example.com"),
    ]
    escalated = timeline(platform, incident_id, "escalated")
    assert escalated[0] == "Escalation step 1: notifying alice (on call in primary)"
    assert escalated[1] == "Escalation step 2: notifying bob (user)"
    # The repeat comes a full gap (5 minutes) after the pass finished.
    update_all(engine, opened + timedelta(minutes=9))
    assert len(notifications(platform, incident_id)) == 3
    update_all(engine, opened + timedelta(minutes=10, seconds=2))
    assert [n[0] for n in notifications(platform, incident_id)] == [1, 2, 2, 1]
    assert "(repeat 1)" in timeline(platform, incident_id, "escalated")[2]


def test_acknowledging_stops_the_escalation(
    platform: Platform,
    generic_auth: dict[str, str],
    paging: dict[str, str],
    engine: Engine,
    incidents_api: httpx.Client,
) -> None:
    incident_id, opened = open_incident(platform, generic_auth)
    update_all(engine, opened + timedelta(seconds=1))
    incidents_api.post(f"/api/v1/incidents/{incident_id}/acknowledge")
    report = update_all(engine, opened + timedelta(hours=1))
    assert report.stopped == 1
    assert len(notifications(platform, incident_id)) == 1
    # The page that was still waiting to go out is cancelled, not sent after the fact.
    assert report.cancelled == 1
    with connect(platform.database_url) as connection:
        statuses = connection.execute(
            "SELECT status, last_error FROM notifications WHERE incident_id = %s", (incident_id,)
        ).fetchall()
    assert statuses == [("cancelled", "incident is acknowledged")]
    with connect(platform.database_url) as connection:
        row = connection.execute(
            "SELECT active FROM escalations WHERE incident_id = %s", (incident_id,)
        ).fetchone()
    assert row == (False,)


def test_catch_up_after_an_outage_fires_each_missed_step_once_in_order(
    platform: Platform, generic_auth: dict[str, str], paging: dict[str, str], engine: Engine
) -> None:
    incident_id, opened = open_incident(platform, generic_auth)
    # The engine was down for an hour: both steps of the first pass fire, once each.
    update_all(engine, opened + timedelta(hours=1))
    assert [n[0] for n in notifications(platform, incident_id)] == [1, 2, 2]
    update_all(engine, opened + timedelta(hours=1))
    assert len(notifications(platform, incident_id)) == 3


def test_an_incident_opened_after_the_tick_starts_escalating_and_is_paged_once_due(
    platform: Platform, generic_auth: dict[str, str], paging: dict[str, str], engine: Engine
) -> None:
    # The engine's clock can lag the database's (another host): the incident is not due yet.
    incident_id, opened = open_incident(platform, generic_auth)
    report = update_all(engine, opened - timedelta(seconds=1))
    assert (report.started, report.evaluated) == (1, 0)
    assert notifications(platform, incident_id) == []
    report = update_all(engine, opened + timedelta(seconds=1))
    assert (report.started, report.evaluated) == (0, 1)
    assert notifications(platform, incident_id) == [
        (1, "alice", "webhook", "http://127.0.0.1:9/alice")
    ]


def test_an_engine_leaves_starting_escalations_to_the_one_already_starting_them(
    platform: Platform, generic_auth: dict[str, str], paging: dict[str, str], engine: Engine
) -> None:
    incident_id, opened = open_incident(platform, generic_auth)
    with connect(platform.database_url) as other, other.transaction():
        other.execute("SELECT pg_advisory_xact_lock(%s)", (START_LOCK,))
        report = update_all(engine, opened + timedelta(seconds=1))
        assert report.started == 0
        assert notifications(platform, incident_id) == []
    report = update_all(engine, opened + timedelta(seconds=2))
    assert report.started == 1
    assert len(notifications(platform, incident_id)) == 1


def test_unrouted_services_are_not_paged(
    platform: Platform, generic_auth: dict[str, str], paging: dict[str, str], engine: Engine
) -> None:
    incident_id, opened = open_incident(platform, generic_auth, service="unrouted")
    report = update_all(engine, opened + timedelta(hours=1))
    assert report.started == 0
    assert notifications(platform, incident_id) == []


def test_two_replicas_ticking_at_once_never_double_notify(
    platform: Platform, generic_auth: dict[str, str], paging: dict[str, str], engine: Engine
) -> None:
    for n in range(30):
        route_service(platform, f"svc-{n}", paging["policy"])
    opened = [open_incident(platform, generic_auth, service=f"svc-{n}") for n in range(30)]
    at = max(created for _, created in opened) + timedelta(seconds=1)
    other = make_engine(Settings(database_url=platform.database_url))
    barrier = threading.Barrier(2)

    def replica(engine: Engine) -> None:
        barrier.wait()
        update_all(engine, at, batch=7)

    threads = [threading.Thread(target=replica, args=(e,)) for e in (engine, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    with connect(platform.database_url) as connection:
        counts = connection.execute(
            "SELECT incident_id, count(*) FROM notifications GROUP BY incident_id"
        ).fetchall()
    assert len(counts) == 30
    assert {count for _, count in counts} == {1}


def route_service(platform: Platform, service: str, policy: str) -> None:
    response = httpx.put(
        f"{platform.oncall.url}/api/v1/services/{service}",
        json={"escalation_policy_id": policy},
        headers=platform.admin(),
    )
    assert response.status_code == 200
