"""Scale-out: two ingestion processes and two on-call engines on one database, under load.

Replicas share nothing but PostgreSQL, as pods of a Deployment do. A burst of alerts, sent
to both ingestion processes at once, must open exactly one incident per service and store
every acknowledged alert exactly once; both on-call processes run their escalation engine
and notification delivery in the background, and every incident must page its on-call
person exactly once, on a real webhook receiver on loopback.
"""

import asyncio
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from incident_platform.db import migrate
from support.database import connect, create_database, drop_database
from support.oncall import create_policy, create_schedule, create_user, daily_schedule, route
from support.services import ServiceProcess
from support.webhook import Received, webhook_receiver

SERVICES = [f"replica-svc-{n}" for n in range(30)]
DISTINCT_PER_SERVICE = 10  # different alerts (fingerprints) of one service
IDENTICAL_PER_SERVICE = 10  # copies of one more alert: deduplicated into one
CONCURRENCY = 64
TICKS_AFTER_THE_LAST_PAGE = 5


@dataclass
class Replicas:
    database_url: str
    admin: dict[str, str]
    ingestion: list[ServiceProcess]
    oncall: list[ServiceProcess]
    webhook_url: str
    received: Received


@pytest.fixture
def replicas(postgres_server: str, tmp_path: Path) -> Iterator[Replicas]:
    """Its own database, two ingestion and two on-call processes (one worker each)."""
    url = create_database(postgres_server)
    migrate(url)
    token = f"test-admin-{secrets.token_urlsafe(16)}"
    env = {
        "DATABASE_URL": url,
        "PLATFORM_ADMIN_TOKEN": token,
        "ACK_SIGNING_KEY": secrets.token_urlsafe(32),
        "ONCALL_PUBLIC_URL": "http://127.0.0.1:9",
        "RUN_ENGINE": "true",
        "ENGINE_INTERVAL_SECONDS": "0.2",
    }
    ingestion = [
        ServiceProcess(
            "incident_platform.entrypoints.alert_ingestion", env, log_path=tmp_path / f"in{n}.log"
        )
        for n in range(2)
    ]
    oncall = [
        ServiceProcess(
            "incident_platform.entrypoints.oncall", env, log_path=tmp_path / f"oncall{n}.log"
        )
        for n in range(2)
    ]
    processes = [*ingestion, *oncall]
    try:
        with webhook_receiver() as (webhook_url, received):
            for process in processes:
                process.start()
            for process in processes:
                process.wait_until("/readyz")
            yield Replicas(
                url,
                {"Authorization": f"Bearer {token}"},
                ingestion,
                oncall,
                webhook_url,
                received,
            )
    finally:
        for process in processes:
            process.stop()
        drop_database(postgres_server, url)


def _alerts() -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for service in SERVICES:
        bodies += [
            {"service": service, "summary": f"symptom {k}", "fingerprint": f"{service}-{k}",
             "severity": "critical"}
            for k in range(DISTINCT_PER_SERVICE)
        ]  # fmt: skip
        bodies += [
            {"service": service, "summary": "the same", "fingerprint": f"{service}-same",
             "severity": "critical"}
        ] * IDENTICAL_PER_SERVICE  # fmt: skip
    # Interleaved, so that every service's alerts reach both processes at the same time.
    return sorted(bodies, key=lambda body: (body["fingerprint"].rsplit("-", 1)[1], body["service"]))


async def _send_to_both(
    urls: list[str], auth: dict[str, str], bodies: list[dict[str, Any]]
) -> list[httpx.Response]:
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    clients = [
        httpx.AsyncClient(base_url=url, headers=auth, limits=limits, timeout=120) for url in urls
    ]

    async def send(n: int, body: dict[str, Any]) -> httpx.Response:
        async with gate:
            return await clients[n % len(clients)].post("/api/v1/alerts", json=body)

    try:
        return await asyncio.gather(*(send(n, body) for n, body in enumerate(bodies)))
    finally:
        for client in clients:
            await client.aclose()


def _ticks(oncall: ServiceProcess) -> float:
    """Escalation-engine ticks the process has finished (its own /metrics)."""
    text = httpx.get(oncall.url + "/metrics", timeout=10).text
    match = re.search(r"^escalation_engine_tick_duration_seconds_count(?:\{\})? (\S+)$", text,
                      re.MULTILINE)  # fmt: skip
    assert match is not None, "the engine exports its tick count"
    return float(match[1])


def _wait(condition: Any, what: str, timeout: float = 180.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_two_ingestion_processes_and_two_engines_page_each_incident_once(
    replicas: Replicas,
) -> None:
    first = replicas.ingestion[0]
    created = httpx.post(
        first.url + "/api/v1/integrations",
        json={"name": "replicas", "kind": "generic"},
        headers=replicas.admin,
    )
    assert created.status_code == 201, created.text
    sender = {"Authorization": f"Bearer {created.json()['key']}"}
    with httpx.Client(base_url=replicas.oncall[0].url, headers=replicas.admin, timeout=30) as api:
        alice = create_user(
            api, "alice", [{"type": "webhook", "address": f"{replicas.webhook_url}/alice"}]
        )
        schedule = create_schedule(
            api, daily_schedule("primary", [alice], start="2026-01-01T09:00:00+01:00")
        )
        policy = create_policy(
            api, "pager", [{"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule}]}]
        )
        for service in SERVICES:
            route(api, service, policy)

    bodies = _alerts()
    responses = asyncio.run(
        _send_to_both([process.url for process in replicas.ingestion], sender, bodies)
    )

    assert [r.status_code for r in responses] == [202] * len(bodies)
    incident_of: dict[str, set[int]] = {}
    for body, response in zip(bodies, responses, strict=True):
        incident_of.setdefault(body["service"], set()).add(response.json()["incident_id"])
    # Exactly one incident per service, whichever process took which of its alerts.
    assert all(len(ids) == 1 for ids in incident_of.values()), incident_of
    incidents = {service: next(iter(ids)) for service, ids in incident_of.items()}
    assert len(set(incidents.values())) == len(SERVICES)
    with connect(replicas.database_url) as db:
        stored = db.execute(
            "SELECT i.service, count(*), count(DISTINCT a.incident_id), min(a.incident_id)"
            " FROM incidents i JOIN alerts a ON a.incident_id = i.id"
            " WHERE i.status IN ('triggered', 'acknowledged') GROUP BY i.service"
        ).fetchall()
        fingerprints = db.execute(
            "SELECT fingerprint, count(*), sum(occurrences) FROM alerts GROUP BY fingerprint"
        ).fetchall()
        open_incidents = db.execute(
            "SELECT service, count(*) FROM incidents GROUP BY service"
        ).fetchall()
    assert dict((s, n) for s, n in open_incidents) == dict.fromkeys(SERVICES, 1)
    assert sorted(stored) == sorted(
        (service, DISTINCT_PER_SERVICE + 1, 1, incidents[service]) for service in SERVICES
    )
    # Every alert that got a 202 is stored exactly once: one row per fingerprint, and the
    # identical copies counted on their one row.
    occurrences = {fingerprint: (rows, total) for fingerprint, rows, total in fingerprints}
    assert len(occurrences) == len(SERVICES) * (DISTINCT_PER_SERVICE + 1)
    for service in SERVICES:
        assert occurrences[f"{service}-same"] == (1, IDENTICAL_PER_SERVICE)
        for k in range(DISTINCT_PER_SERVICE):
            assert occurrences[f"{service}-{k}"] == (1, 1)

    # Both engines page; each incident exactly once. After the last expected page, let both
    # engines finish several more ticks (and delivery settle) before counting: a duplicate
    # would have had every chance to go out.
    replicas.received.wait_for(len(SERVICES), timeout=180)

    def settled() -> bool:
        with connect(replicas.database_url) as db:
            row = db.execute(
                "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM notifications"
            ).fetchone()
        return row is not None and row[0] == row[1] == len(SERVICES)

    _wait(settled, "every page delivered")
    after = [_ticks(process) for process in replicas.oncall]
    _wait(
        lambda: all(
            _ticks(process) >= ticks + TICKS_AFTER_THE_LAST_PAGE
            for process, ticks in zip(replicas.oncall, after, strict=True)
        ),
        "both engines ticking on",
    )
    pages = replicas.received.requests
    assert sorted(path for path, _ in pages) == ["/alice"] * len(SERVICES)
    assert sorted(body["incident"]["id"] for _, body in pages) == sorted(incidents.values())
    with connect(replicas.database_url) as db:
        escalations = db.execute(
            "SELECT count(*), count(DISTINCT incident_id) FROM escalations"
        ).fetchone()
    assert escalations == (len(SERVICES), len(SERVICES))
