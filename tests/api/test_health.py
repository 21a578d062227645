"""/readyz and /healthz: not ready (503 with the reason) while the schema is not migrated,
ready once it is, without a restart; alive all along."""

from pathlib import Path

import httpx

from incident_platform.db import migrate
from incident_platform.devtools.devdb import EmbeddedPostgres
from support.faults import ingestion_on
from support.platform import Platform


def test_readyz_reports_an_unmigrated_schema(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "bare")
    server.start()
    service = ingestion_on(server, tmp_path).start()
    try:
        response = service.wait_until("/readyz", status=503)
        assert "not migrated" in response.json()["reason"]
        migrate(server.url)
        service.wait_until("/readyz", status=200)
    finally:
        service.stop()
        server.stop()


def test_every_running_service_is_alive_ready_and_serves_its_metrics(
    running_platform: Platform,
) -> None:
    for service in (
        running_platform.ingestion,
        running_platform.incidents,
        running_platform.oncall,
    ):
        assert httpx.get(service.url + "/healthz").json() == {"status": "ok"}, service.module
        ready = httpx.get(service.url + "/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"}), service.module
        metrics = httpx.get(service.url + "/metrics")
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert "# TYPE http_request_duration_seconds histogram" in metrics.text, service.module
