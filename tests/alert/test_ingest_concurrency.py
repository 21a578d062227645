"""The correlation guarantees under concurrency: across two worker processes, across two
replicas (separate ingestion processes) on one database, and with group commit
coalescing the concurrent requests of each worker into shared transactions."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.database import connect
from support.platform import Platform, create_integration
from support.services import ServiceProcess


async def _responses(
    urls: list[str], auth: dict[str, str], bodies: list[Any], path: str = "/api/v1/alerts"
) -> list[httpx.Response]:
    """POST every body at once, spread round-robin over ``urls``."""
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=0)
    async with httpx.AsyncClient(headers=auth, limits=limits, timeout=120) as client:
        return await asyncio.gather(
            *(client.post(urls[n % len(urls)] + path, json=body) for n, body in enumerate(bodies))
        )


def _refused(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    """Every answer but 202, with its body: the reason a 503 gives is the diagnosis."""
    return [(r.status_code, r.text) for r in responses if r.status_code != 202]


async def _burst(url: str, auth: dict[str, str], bodies: list[dict[str, str]]) -> list[int]:
    return [response.status_code for response in await _responses([url], auth, bodies)]


@pytest.fixture(scope="module")
def second_replica(running_platform: Platform, logs_dir: Path) -> Iterator[ServiceProcess]:
    """Another ingestion deployment's pod: its own process (2 workers), the same database."""
    env = {
        "DATABASE_URL": running_platform.database_url,
        "PLATFORM_ADMIN_TOKEN": running_platform.admin_token,
        "RUN_ENGINE": "false",
    }
    replica = ServiceProcess(
        "incident_platform.entrypoints.alert_ingestion",
        env,
        workers=2,
        log_path=logs_dir / "ingestion-replica.log",
    ).start()
    try:
        replica.wait_until("/readyz", timeout=180)
        yield replica
    finally:
        replica.stop()


def test_300_identical_alerts_make_one_incident_one_alert_full_count(
    platform: Platform, generic_auth: dict[str, str]
) -> None:
    body = {"service": "storm", "summary": "Everything is on fire", "severity": "critical"}
    statuses = asyncio.run(_burst(platform.ingestion.url, generic_auth, [body] * 300))
    assert statuses == [202] * 300
    with connect(platform.database_url) as connection:
        incidents = connection.execute(
            "SELECT count(*), sum(alert_count) FROM incidents WHERE service = 'storm'"
        ).fetchone()
        alerts = connection.execute(
            "SELECT count(*), sum(occurrences) FROM alerts WHERE service = 'storm'"
        ).fetchone()
    assert incidents == (1, 1)
    assert alerts == (1, 300)


def test_300_different_alerts_of_one_service_make_one_incident(
    platform: Platform, generic_auth: dict[str, str]
) -> None:
    bodies = [{"service": "hot", "summary": f"symptom {n}"} for n in range(300)]
    statuses = asyncio.run(_burst(platform.ingestion.url, generic_auth, bodies))
    assert statuses == [202] * 300
    with connect(platform.database_url) as connection:
        incidents = connection.execute(
            "SELECT count(*), sum(alert_count) FROM incidents WHERE service = 'hot'"
        ).fetchone()
        alerts = connection.execute(
            "SELECT count(DISTINCT incident_id), count(*) FROM alerts WHERE service = 'hot'"
        ).fetchone()
    assert incidents == (1, 300)
    assert alerts == (1, 300)


def test_concurrent_resolves_of_the_last_alerts_still_auto_resolve(
    platform: Platform, generic_auth: dict[str, str]
) -> None:
    firing = [{"service": "race", "summary": "x", "fingerprint": f"r{n}"} for n in range(40)]
    asyncio.run(_burst(platform.ingestion.url, generic_auth, firing))
    resolved = [{**body, "status": "resolved"} for body in firing]
    statuses = asyncio.run(_burst(platform.ingestion.url, generic_auth, resolved))
    assert statuses == [202] * 40
    with connect(platform.database_url) as connection:
        rows = connection.execute("SELECT status FROM incidents WHERE service = 'race'").fetchall()
        auto = connection.execute(
            "SELECT count(*) FROM timeline_events WHERE kind = 'auto_resolved'"
        ).fetchone()
    assert rows == [("resolved",)]
    assert auto == (1,)


def _stored(database_url: str, service: str) -> tuple[Any, Any, dict[Any, Any]]:
    with connect(database_url) as connection:
        incidents = connection.execute(
            "SELECT count(*), sum(alert_count) FROM incidents WHERE service = %s", [service]
        ).fetchone()
        open_incidents = connection.execute(
            "SELECT count(*) FROM incidents WHERE service = %s"
            " AND status IN ('triggered', 'acknowledged')",
            [service],
        ).fetchone()
        alerts = {
            fingerprint: (alert_id, occurrences)
            for fingerprint, alert_id, occurrences in connection.execute(
                "SELECT fingerprint, id, occurrences FROM alerts WHERE service = %s", [service]
            ).fetchall()
        }
    return incidents, open_incidents, alerts


def test_two_replicas_300_identical_alerts_make_one_incident_one_alert(
    platform: Platform, second_replica: ServiceProcess, generic_auth: dict[str, str]
) -> None:
    body = {"service": "replicated", "summary": "Down everywhere", "fingerprint": "same"}
    urls = [platform.ingestion.url, second_replica.url]
    responses = asyncio.run(_responses(urls, generic_auth, [body] * 300))
    assert len(responses) == 300
    assert _refused(responses) == []
    incidents, open_incidents, alerts = _stored(platform.database_url, "replicated")
    assert incidents == (1, 1)
    assert open_incidents == (1,)
    assert alerts == {"same": (alerts["same"][0], 300)}
    assert {r.json()["alert_id"] for r in responses} == {alerts["same"][0]}
    assert sorted(r.json()["action"] for r in responses) == ["created"] + ["deduplicated"] * 299


def test_two_replicas_300_distinct_alerts_each_stored_exactly_once_in_one_incident(
    platform: Platform, second_replica: ServiceProcess, generic_auth: dict[str, str]
) -> None:
    bodies = [
        {"service": "replicated-hot", "summary": f"symptom {n}", "fingerprint": f"d-{n}"}
        for n in range(300)
    ]
    urls = [platform.ingestion.url, second_replica.url]
    responses = asyncio.run(_responses(urls, generic_auth, bodies))
    assert len(responses) == 300
    assert _refused(responses) == []
    incidents, open_incidents, alerts = _stored(platform.database_url, "replicated-hot")
    assert incidents == (1, 300)
    assert open_incidents == (1,)
    # Every acknowledged alert is the stored one, once: its own row, counted once.
    answered = {body["fingerprint"]: r.json() for body, r in zip(bodies, responses, strict=True)}
    assert {fp: (a["alert_id"], 1) for fp, a in answered.items()} == alerts
    assert len({a["incident_id"] for a in answered.values()}) == 1
    assert sorted(a["action"] for a in answered.values()) == ["attached"] * 299 + ["created"]


def test_concurrent_senders_of_every_kind_share_one_incident_per_service(
    platform: Platform, second_replica: ServiceProcess, generic_auth: dict[str, str]
) -> None:
    """Alertmanager notifications, PagerDuty events and generic alerts at once, over two
    replicas: the batches they are coalesced into keep each sender's answers its own."""
    am_auth = {"Authorization": f"Bearer {create_integration(platform, 'alertmanager')}"}
    routing_key = create_integration(platform, "pagerduty")
    urls = [platform.ingestion.url, second_replica.url]
    notifications = [
        {
            "version": "4",
            "status": "firing",
            "receiver": "x",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://am",
            "groupKey": "k",
            "truncatedAlerts": 0,
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": f"A{i}", "service": f"mixed-{i % 3}"},
                    "annotations": {"summary": f"notification {n} alert {i}"},
                    "startsAt": "2026-11-26T10:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "fingerprint": f"am-{n}-{i}",
                }
                for i in range(15)
            ],
        }
        for n in range(20)
    ]
    events = [
        {
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": f"pd-{n}",
            "payload": {"summary": f"event {n}", "source": f"mixed-{n % 3}", "severity": "error"},
        }
        for n in range(60)
    ]
    generic = [
        {"service": f"mixed-{n % 3}", "summary": f"generic {n}", "fingerprint": f"g-{n}"}
        for n in range(60)
    ]

    async def everything() -> tuple[list[httpx.Response], ...]:
        return await asyncio.gather(
            _responses(urls, am_auth, notifications, "/api/v1/integrations/alertmanager"),
            _responses(urls, {}, events, "/v2/enqueue"),
            _responses(urls, generic_auth, generic),
        )

    am, pd, gen = asyncio.run(everything())
    assert len(am + pd + gen) == 20 + 60 + 60
    assert _refused(am + pd + gen) == []
    am_ids = [result["alert_id"] for r in am for result in r.json()["results"]]
    gen_ids = [r.json()["alert_id"] for r in gen]
    assert len(set(am_ids)) == 300
    assert [r.json()["dedup_key"] for r in pd] == [f"pd-{n}" for n in range(60)]
    with connect(platform.database_url) as connection:
        per_service = connection.execute(
            "SELECT service, count(*), sum(alert_count) FROM incidents"
            " WHERE service LIKE 'mixed-%%' GROUP BY service ORDER BY service"
        ).fetchall()
        stored_ids = {row[0] for row in connection.execute("SELECT id FROM alerts")}
        alerts = connection.execute("SELECT count(*) FROM alerts").fetchone()
    assert per_service == [(f"mixed-{n}", 1, 140) for n in range(3)]
    assert alerts == (420,)
    assert set(am_ids) | set(gen_ids) <= stored_ids
