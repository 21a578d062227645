"""One broken object breaks only what uses it: the engine and the delivery loop, per incident.

Each broken object is written straight into PostgreSQL, as an older version, a restore or
a manual fix could leave it, behind the API's validation: an override of year 1, a
layer with no users, a policy step whose target was deleted, a contact address that is
not a URL. Every broken service's incident is opened before the healthy one, so it is
due first. The healthy service is still paged in the same tick and delivered to a real
receiver; each broken one records on its timeline why it could not page, in metrics too.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import Engine

from incident_platform.escalation.engine import update_all
from incident_platform.notification.delivery import deliver_due
from incident_platform.settings import Settings
from support.database import connect
from support.oncall import create_policy, create_schedule, create_user, daily_schedule, route
from support.platform import Platform
from support.webhook import Received, webhook_receiver

BROKEN = ("year-one", "empty-layer", "deleted-target", "bad-address")


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    with webhook_receiver() as pair:
        yield pair


def sql(platform: Platform, statement: str, *params: object) -> list[tuple[Any, ...]]:
    with connect(platform.database_url) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def service_paging_schedule(api: httpx.Client, service: str, user: str) -> tuple[str, str]:
    schedule = create_schedule(
        api, daily_schedule(service, [user], start="2026-01-01T09:00:00+01:00")
    )
    policy = create_policy(
        api, service, [{"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule}]}]
    )
    route(api, service, policy)
    return schedule, policy


@pytest.fixture
def services(
    platform: Platform, oncall_api: httpx.Client, receiver: tuple[str, Received]
) -> dict[str, str]:
    """One routed service per broken object, and a healthy ``checkout``; broken behind the API."""
    url, _ = receiver
    ids: dict[str, str] = {}
    for service in ("checkout", *BROKEN):
        user = create_user(
            oncall_api, f"u-{service}", [{"type": "webhook", "address": f"{url}/{service}"}]
        )
        ids[f"{service}:user"] = user
        if service == "deleted-target":
            policy = create_policy(
                oncall_api,
                service,
                [{"delay_minutes": 0, "targets": [{"type": "user", "id": user}]}],
            )
            route(oncall_api, service, policy)
        else:
            ids[f"{service}:schedule"], _ = service_paging_schedule(oncall_api, service, user)
    sql(
        platform,
        "INSERT INTO schedule_overrides (schedule_id, user_id, start_at, end_at, created_at)"
        " VALUES (%s, %s, '0001-01-01T00:00:00Z', '9999-12-31T00:00:00Z', now())",
        ids["year-one:schedule"],
        ids["year-one:user"],
    )
    sql(
        platform,
        "UPDATE schedules SET layers = jsonb_set(layers, '{0,users}', '[]'::jsonb) WHERE id = %s",
        ids["empty-layer:schedule"],
    )
    sql(platform, "DELETE FROM users WHERE id = %s", ids["deleted-target:user"])
    sql(
        platform,
        'UPDATE users SET contact_methods = \'[{"type": "webhook", "address": "not a url"}]\''
        " WHERE id = %s",
        ids["bad-address:user"],
    )
    return ids


def open_incident(platform: Platform, auth: dict[str, str], service: str) -> tuple[int, datetime]:
    response = httpx.post(
        platform.ingestion.url + "/api/v1/alerts",
        json={"service": service, "summary": f"{service} is down", "severity": "critical"},
        headers=auth,
    )
    assert response.status_code == 202, response.text
    incident_id = int(response.json()["incident_id"])
    [(created,)] = sql(platform, "SELECT created_at FROM incidents WHERE id = %s", incident_id)
    assert isinstance(created, datetime)
    return incident_id, created


def timeline(platform: Platform, incident_id: int, kind: str) -> list[tuple[str, dict[str, Any]]]:
    rows = sql(
        platform,
        "SELECT message, data FROM timeline_events WHERE incident_id = %s AND kind = %s"
        " ORDER BY id",
        incident_id,
        kind,
    )
    return [(str(message), dict(data)) for message, data in rows]


def pages(platform: Platform, incident_id: int) -> list[tuple[Any, ...]]:
    return sql(
        platform,
        "SELECT address, status, created_at, last_error FROM notifications"
        " WHERE incident_id = %s ORDER BY id",
        incident_id,
    )


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_broken_objects_page_nobody_but_never_delay_other_services(
    platform: Platform,
    generic_auth: dict[str, str],
    services: dict[str, str],
    receiver: tuple[str, Received],
    engine: Engine,
) -> None:
    url, received = receiver
    incidents = {service: open_incident(platform, generic_auth, service) for service in BROKEN}
    incidents["checkout"] = open_incident(platform, generic_auth, "checkout")
    policy_errors = counter("escalation_errors_total", reason="target_unresolvable")
    unpageable = {
        s: counter("escalation_unpageable_total", service=s) for s in (*BROKEN, "checkout")
    }
    address_errors = counter(
        "notification_errors_total", channel="webhook", reason="invalid_address"
    )
    tick = max(opened for _, opened in incidents.values()) + timedelta(seconds=1)

    report = update_all(engine, tick)

    # The healthy service is paged in this very tick, whatever came due before it.
    checkout_id, _ = incidents["checkout"]
    assert [(a, s, at) for a, s, at, _ in pages(platform, checkout_id)] == [
        (f"{url}/checkout", "pending", tick)
    ]
    # Evaluating the override of year 1 and the empty layer fails; nothing is paged,
    # the timeline says why, and the escalation is due again after a backoff.
    assert report.failed == 2
    for service in ("year-one", "empty-layer"):
        incident_id, _ = incidents[service]
        assert pages(platform, incident_id) == []
        [(message, data)] = timeline(platform, incident_id, "escalation_failed")
        assert message.startswith("Could not escalate, nobody was paged: target unresolvable (")
        assert data["reason"] == "target_unresolvable"
        assert data["attempt"] == 1
        [(failures, due, last_error)] = sql(
            platform,
            "SELECT failures, next_due_at, last_error FROM escalations WHERE incident_id = %s",
            incident_id,
        )
        assert (failures, due) == (1, tick + timedelta(seconds=10))
        assert last_error == data["error"]
    # A step whose target was deleted pages nobody, and says so.
    deleted_id, _ = incidents["deleted-target"]
    assert pages(platform, deleted_id) == []
    [(message, data)] = timeline(platform, deleted_id, "unpageable")
    assert message == (
        f"Nobody was paged by escalation step 1: user {services['deleted-target:user']} not found"
    )
    # The address that is not a URL is queued like any other page ...
    bad_id, _ = incidents["bad-address"]
    assert [(a, s) for a, s, _, _ in pages(platform, bad_id)] == [("not a url", "pending")]
    assert counter("escalation_errors_total", reason="target_unresolvable") == (policy_errors + 2)
    for service in ("year-one", "empty-layer", "deleted-target"):
        assert counter("escalation_unpageable_total", service=service) == (unpageable[service] + 1)
    assert counter("escalation_unpageable_total", service="checkout") == (unpageable["checkout"])

    settings = Settings(
        database_url=platform.database_url, ack_signing_key=SecretStr(platform.ack_signing_key)
    )
    delivery = deliver_due(engine, settings, tick, jitter=lambda: 1.0)

    # ... and fails on its own, permanently and on its incident's timeline, while the
    # healthy page reaches its receiver in the same delivery round.
    assert (delivery.sent, delivery.failed) == (1, 1)
    [(path, body)] = received.wait_for(1)
    assert path == "/checkout"
    assert body["incident"]["id"] == checkout_id
    [(_, status, _, last_error)] = pages(platform, bad_id)
    assert status == "failed"
    assert last_error.startswith("invalid URL")
    [(message, _)] = timeline(platform, bad_id, "notification_failed")
    assert message.startswith("Could not notify (invalid URL) by webhook: invalid URL")
    assert counter("notification_errors_total", channel="webhook", reason="invalid_address") == (
        address_errors + 1
    )


def test_a_failing_escalation_is_retried_with_backoff_and_recorded_once_per_reason(
    platform: Platform,
    generic_auth: dict[str, str],
    services: dict[str, str],
    engine: Engine,
) -> None:
    incident_id, opened = open_incident(platform, generic_auth, "empty-layer")
    first = opened + timedelta(seconds=1)
    update_all(engine, first)
    # Not due again before its backoff: a tick in between does not touch it.
    assert update_all(engine, first + timedelta(seconds=9)).evaluated == 0
    second = first + timedelta(seconds=10)
    assert update_all(engine, second).failed == 1
    [(failures, due)] = sql(
        platform,
        "SELECT failures, next_due_at FROM escalations WHERE incident_id = %s",
        incident_id,
    )
    assert (failures, due) == (2, second + timedelta(seconds=20))
    # The same reason again: counted, but the timeline says it once.
    assert len(timeline(platform, incident_id, "escalation_failed")) == 1

    # Fixed by hand: the next attempt pages, and the streak is over.
    sql(
        platform,
        "UPDATE schedules SET layers = jsonb_set(layers, '{0,users}', %s::jsonb) WHERE id = %s",
        f'["{services["empty-layer:user"]}"]',
        services["empty-layer:schedule"],
    )
    third = second + timedelta(seconds=20)
    report = update_all(engine, third)
    assert (report.failed, report.notifications) == (0, 1)
    [(failures, last_error)] = sql(
        platform,
        "SELECT failures, last_error FROM escalations WHERE incident_id = %s",
        incident_id,
    )
    assert (failures, last_error) == (0, None)
