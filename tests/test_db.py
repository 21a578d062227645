"""Database faults: an outage under a running service answers 503 and recovers (a service
that starts first: tests/api/test_readiness.py; an unmigrated schema: test_health.py)."""

from pathlib import Path

import httpx

from incident_platform.devtools.devdb import EmbeddedPostgres
from support.database import connect
from support.faults import ADMIN, ingestion_on, integration_key, post_alert, until


def test_outage_answers_503_with_retry_after_and_recovers_without_restart(
    private_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    service = ingestion_on(private_postgres, tmp_path).start()
    try:
        service.wait_until("/readyz")
        key = integration_key(service)
        assert post_alert(service, key, "before").status_code == 202

        private_postgres.stop()
        during = post_alert(service, key, "during")
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
        until(
            "service accepts alerts again",
            lambda: post_alert(service, key, "after").status_code == 202,
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
