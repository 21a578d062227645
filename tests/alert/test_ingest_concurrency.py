"""The correlation guarantees under concurrency, across two worker processes."""

import asyncio

import httpx

from support.database import connect
from support.platform import Platform


async def _burst(url: str, auth: dict[str, str], bodies: list[dict[str, str]]) -> list[int]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=auth, limits=limits, timeout=60) as client:
        responses = await asyncio.gather(
            *(client.post("/api/v1/alerts", json=body) for body in bodies)
        )
    return [response.status_code for response in responses]


def test_200_identical_alerts_make_one_incident_one_alert_full_count(
    platform: Platform, generic_auth: dict[str, str]
) -> None:
    body = {"service": "storm", "summary": "Everything is on fire", "severity": "critical"}
    statuses = asyncio.run(_burst(platform.ingestion.url, generic_auth, [body] * 200))
    assert statuses == [202] * 200
    with connect(platform.database_url) as connection:
        incidents = connection.execute(
            "SELECT count(*), sum(alert_count) FROM incidents WHERE service = 'storm'"
        ).fetchone()
        alerts = connection.execute(
            "SELECT count(*), sum(occurrences) FROM alerts WHERE service = 'storm'"
        ).fetchone()
    assert incidents == (1, 1)
    assert alerts == (1, 200)


def test_200_different_alerts_of_one_service_make_one_incident(
    platform: Platform, generic_auth: dict[str, str]
) -> None:
    bodies = [{"service": "hot", "summary": f"symptom {n}"} for n in range(200)]
    statuses = asyncio.run(_burst(platform.ingestion.url, generic_auth, bodies))
    assert statuses == [202] * 200
    with connect(platform.database_url) as connection:
        incidents = connection.execute(
            "SELECT count(*), sum(alert_count) FROM incidents WHERE service = 'hot'"
        ).fetchone()
        alerts = connection.execute(
            "SELECT count(DISTINCT incident_id), count(*) FROM alerts WHERE service = 'hot'"
        ).fetchone()
    assert incidents == (1, 200)
    assert alerts == (1, 200)


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
