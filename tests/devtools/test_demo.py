"""What ``make run`` seeds: two people on a rotation, a policy routing ``checkout``, and a
loopback receiver that prints each page. Seeded through a real on-call service on a
database of its own (the seed leaves a database that has people alone)."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from incident_platform.db import migrate
from incident_platform.devtools.demo import seed_demo_oncall, start_demo_receiver
from support.database import create_database, drop_database
from support.services import ServiceProcess, free_port

ADMIN_TOKEN = "demo-test-admin-token-0123456789"


@pytest.fixture
def empty_oncall(postgres_server: str, tmp_path: Path) -> Iterator[httpx.Client]:
    url = create_database(postgres_server)
    migrate(url)
    service = ServiceProcess(
        "incident_platform.entrypoints.oncall",
        {"DATABASE_URL": url, "PLATFORM_ADMIN_TOKEN": ADMIN_TOKEN, "RUN_ENGINE": "false"},
        log_path=tmp_path / "oncall.log",
    ).start()
    try:
        service.wait_until("/readyz", timeout=180)
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
        ) as client:
            yield client
    finally:
        service.stop()
        drop_database(postgres_server, url)


def test_the_seed_routes_checkout_to_someone_on_call_and_runs_once(
    empty_oncall: httpx.Client,
) -> None:
    base = str(empty_oncall.base_url)
    seed_demo_oncall(base, ADMIN_TOKEN, "http://127.0.0.1:8099")
    seed_demo_oncall(base, ADMIN_TOKEN, "http://127.0.0.1:8099")  # a restart of make run

    users = empty_oncall.get("/api/v1/users").json()["data"]
    assert sorted(user["name"] for user in users) == ["alice", "bob"]
    assert {user["name"]: user["contact_methods"] for user in users}["bob"] == [
        {"type": "webhook", "address": "http://127.0.0.1:8099/bob"}
    ]
    [policy] = empty_oncall.get("/api/v1/escalation-policies").json()["data"]
    assert [step["delay_minutes"] for step in policy["steps"]] == [0, 5]
    service = empty_oncall.get("/api/v1/services/checkout").json()
    assert service["escalation_policy_id"] == policy["id"]
    [schedule] = empty_oncall.get("/api/v1/schedules").json()["data"]
    on_call = empty_oncall.get(f"/api/v1/schedules/{schedule['id']}/oncall").json()
    assert on_call["user"]["name"] in {"alice", "bob"}


def test_the_receiver_prints_each_page_with_its_ack_link(capfd: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    server = start_demo_receiver("127.0.0.1", port)
    try:
        event = {
            "incident": {"id": 7, "title": "Checkout down", "severity": "critical"},
            "ack_url": "http://127.0.0.1:8003/api/v1/ack/v1.7.x",
        }
        answer = httpx.post(f"http://127.0.0.1:{port}/bob", content=json.dumps(event))
        garbled = httpx.post(f"http://127.0.0.1:{port}/alice", content=b"not json")
    finally:
        server.shutdown()
    assert (answer.status_code, garbled.status_code) == (204, 204)
    lines = capfd.readouterr().out.splitlines()
    assert lines == [
        "[page] bob: #7 Checkout down (critical) ack: http://127.0.0.1:8003/api/v1/ack/v1.7.x",
        "[page] /alice: b'not json'",
    ]
