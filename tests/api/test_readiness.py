"""Waiting for the database at start-up: a service started before its database answers
503 on /readyz, retries in the background and serves once the database comes."""

import time
from pathlib import Path

import httpx

from incident_platform.devtools.devdb import EmbeddedPostgres
from support.faults import ingestion_on, integration_key, post_alert, until


def test_service_started_before_the_database_serves_once_it_comes(
    private_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    private_postgres.stop()
    service = ingestion_on(private_postgres, tmp_path).start()
    try:
        not_ready = service.wait_until("/readyz", status=503)
        assert "unreachable" in not_ready.json()["reason"]
        assert httpx.get(service.url + "/healthz").status_code == 200
        time.sleep(1.5)  # let the service retry against a missing database for a while
        private_postgres.start()
        service.wait_until("/readyz", status=200)
        key = integration_key(service)
        assert post_alert(service, key, "first").status_code == 202
        log = tmp_path / "ingestion.log"
        assert "database not ready yet" in log.read_text()
        until(
            "the start-up retry loop saw the database",
            lambda: "database ready\n" in log.read_text(),
        )
    finally:
        service.stop()
