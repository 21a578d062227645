"""Database faults: an outage under a running service, and a service that starts first."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from incident_platform.db import migrate
from incident_platform.devtools.devdb import EmbeddedPostgres
from support.database import connect
from support.services import ServiceProcess

ADMIN = "fault-test-admin-token"


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of this test's own, so stopping it harms no other test."""
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    migrate(server.url)
    yield server
    server.stop()


def _service(server: EmbeddedPostgres, tmp_path: Path) -> ServiceProcess:
    return ServiceProcess(
        "incident_platform.entrypoints.alert_ingestion",
        {"DATABASE_URL": server.url, "PLATFORM_ADMIN_TOKEN": ADMIN},
        log_path=tmp_path / "ingestion.log",
    )


def _integration_key(service: ServiceProcess) -> str:
    response = httpx.post(
        service.url + "/api/v1/integrations",
        json={"name": "fault", "kind": "generic"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert response.status_code == 201
    return str(response.json()["key"])


def _alert(service: ServiceProcess, key: str, summary: str) -> httpx.Response:
    # The timeout bounds the answer: an outage must be a quick 503, never a hang.
    return httpx.post(
        service.url + "/api/v1/alerts",
        json={"service": "db-test", "summary": summary},
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )


def _until(condition: str, check: Callable[[], bool], attempts: int = 300) -> None:
    for _ in range(attempts):
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never became true: {condition}")


def test_outage_answers_503_with_retry_after_and_recovers_without_restart(
    private_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    service = _service(private_postgres, tmp_path).start()
    try:
        service.wait_until("/readyz")
        key = _integration_key(service)
        assert _alert(service, key, "before").status_code == 202

        private_postgres.stop()
        during = _alert(service, key, "during")
        assert during.status_code == 503
        assert int(during.headers["Retry-After"]) > 0
        ready = httpx.get(service.url + "/readyz", timeout=5)
        assert ready.status_code == 503
        assert "unreachable" in ready.json()["reason"]
        listing = httpx.get(
            service.url + "/api/v1/alerts", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=5
        )
        assert listing.status_code == 503
        assert httpx.get(service.url + "/healthz", timeout=5).status_code == 200

        private_postgres.start()
        _until(
            "service accepts alerts again", lambda: _alert(service, key, "after").status_code == 202
        )
        assert service.process is not None
        assert service.process.poll() is None
    finally:
        service.stop()
    with connect(private_postgres.url) as connection:
        summaries = [row[0] for row in connection.execute("SELECT summary FROM alerts ORDER BY id")]
        incidents = connection.execute(
            "SELECT count(*), max(alert_count) FROM incidents"
        ).fetchone()
    # The refused alert left nothing behind; the others correlated as usual.
    assert "during" not in summaries
    assert summaries[0] == "before"
    assert set(summaries) == {"before", "after"}
    assert incidents == (1, 2)


def test_service_started_before_the_database_serves_once_it_comes(
    private_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    private_postgres.stop()
    service = _service(private_postgres, tmp_path).start()
    try:
        not_ready = service.wait_until("/readyz", status=503)
        assert "unreachable" in not_ready.json()["reason"]
        assert httpx.get(service.url + "/healthz").status_code == 200
        time.sleep(1.5)  # let the service retry against a missing database for a while
        private_postgres.start()
        service.wait_until("/readyz", status=200)
        key = _integration_key(service)
        assert _alert(service, key, "first").status_code == 202
        log = tmp_path / "ingestion.log"
        assert "database not ready yet" in log.read_text()
        _until(
            "the start-up retry loop saw the database",
            lambda: "database ready\n" in log.read_text(),
        )
    finally:
        service.stop()


def test_readyz_reports_an_unmigrated_schema(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "bare")
    server.start()
    service = _service(server, tmp_path).start()
    try:
        response = service.wait_until("/readyz", status=503)
        assert "not migrated" in response.json()["reason"]
        migrate(server.url)
        service.wait_until("/readyz", status=200)
    finally:
        service.stop()
        server.stop()
