"""The engine loop as the on-call service runs it (RUN_ENGINE=true): its ticks reach /metrics."""

import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from incident_platform.db import migrate
from support.database import create_database, drop_database
from support.services import ServiceProcess


@pytest.fixture
def engine_database(postgres_server: str) -> Iterator[str]:
    """A database of its own: a running engine must not touch the session's incidents."""
    url = create_database(postgres_server)
    migrate(url)
    yield url
    drop_database(postgres_server, url)


def _last_tick(url: str) -> float | None:
    for family in text_string_to_metric_families(httpx.get(url + "/metrics", timeout=10).text):
        for sample in family.samples:
            if sample.name == "escalation_engine_last_tick_timestamp_seconds":
                return sample.value
    return None


def test_a_running_engine_reports_its_last_tick(engine_database: str) -> None:
    oncall = ServiceProcess(
        "incident_platform.entrypoints.oncall",
        {
            "DATABASE_URL": engine_database,
            "PLATFORM_ADMIN_TOKEN": "test-admin-token-engine-runner",
            "ACK_SIGNING_KEY": "k" * 43,
            "RUN_ENGINE": "true",
            "ENGINE_INTERVAL_SECONDS": "0.2",
        },
        workers=2,
    ).start()
    try:
        oncall.wait_until("/readyz")
        started = time.time()
        deadline = time.monotonic() + 60
        seen = _last_tick(oncall.url)
        while not (seen and seen >= started) and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = _last_tick(oncall.url)
        assert seen is not None, "no escalation_engine_last_tick_timestamp_seconds exported"
        assert seen >= started, "the engine never finished a tick after start-up"
        text = httpx.get(oncall.url + "/metrics").text
        assert "escalation_engine_tick_duration_seconds_count" in text
    finally:
        oncall.stop()
