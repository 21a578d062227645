"""An ingestion service on a PostgreSQL of a test's own, for the tests that stop, start or
leave unmigrated its database (tests/test_db.py, tests/api/test_health.py and
test_readiness.py); ``private_postgres`` in tests/conftest.py is that database."""

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from incident_platform.devtools.devdb import EmbeddedPostgres
from support.services import ServiceProcess

ADMIN = "fault-test-admin-token"


def ingestion_on(server: EmbeddedPostgres, tmp_path: Path) -> ServiceProcess:
    return ServiceProcess(
        "incident_platform.entrypoints.alert_ingestion",
        {"DATABASE_URL": server.url, "PLATFORM_ADMIN_TOKEN": ADMIN},
        log_path=tmp_path / "ingestion.log",
    )


def integration_key(service: ServiceProcess) -> str:
    response = httpx.post(
        service.url + "/api/v1/integrations",
        json={"name": "fault", "kind": "generic"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert response.status_code == 201
    return str(response.json()["key"])


def post_alert(service: ServiceProcess, key: str, summary: str) -> httpx.Response:
    # The timeout bounds the answer: an outage must be a quick 503, never a hang.
    return httpx.post(
        service.url + "/api/v1/alerts",
        json={"service": "db-test", "summary": summary},
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )


def until(condition: str, check: Callable[[], bool], attempts: int = 300) -> None:
    for _ in range(attempts):
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never became true: {condition}")
