"""``GET /api/v2/status``: what amtool reads before every command (see test_silences.py
for amtool itself)."""

from datetime import UTC, datetime

import httpx

from support.platform import Platform


def test_status_reports_no_cluster_and_an_uptime_in_the_past(platform: Platform) -> None:
    response = httpx.get(platform.ingestion.url + "/api/v2/status", headers=platform.admin())
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["cluster"] == {"name": None, "status": "disabled", "peers": []}
    assert status["config"] == {"original": ""}
    assert status["versionInfo"]["version"].startswith("incident-platform-")
    assert datetime.fromisoformat(status["uptime"]) < datetime.now(UTC)


def test_status_needs_a_credential(platform: Platform) -> None:
    assert httpx.get(platform.ingestion.url + "/api/v2/status").status_code == 401
