"""The real ``amtool`` (Alertmanager 0.25's CLI) drives the platform's silences unchanged."""

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.database import connect
from support.platform import Platform

AMTOOL = shutil.which("amtool")


@pytest.fixture
def amtool(platform: Platform, tmp_path: Path) -> Callable[..., str]:
    assert AMTOOL is not None, "amtool (Debian package prometheus-alertmanager) is not installed"
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": "amtool", "role": "responder"},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    config = tmp_path / "http.yml"
    config.write_text(
        "authorization:\n  type: Bearer\n  credentials: " + response.json()["token"] + "\n"
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [
                AMTOOL,
                f"--alertmanager.url={platform.ingestion.url}",
                f"--http.config.file={config}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_amtool_adds_queries_and_expires_a_silence(
    amtool: Callable[..., str],
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    platform: Platform,
) -> None:
    silence_id = amtool(
        "silence",
        "add",
        "service=checkout",
        "severity=~high|critical",
        "--author=alice",
        "--comment=deploying checkout",
        "--duration=2h",
    ).strip()
    assert len(silence_id) == 36
    muted = ingest.post(
        "/api/v1/alerts",
        json={"service": "checkout", "summary": "Checkout down", "severity": "critical"},
        headers=generic_auth,
    ).json()
    assert muted["action"] == "silenced"

    listed = json.loads(amtool("silence", "query", "-o", "json"))
    assert [s["id"] for s in listed] == [silence_id]
    assert listed[0]["createdBy"] == "alice"
    assert listed[0]["status"]["state"] == "active"
    assert {(m["name"], m["value"], m["isRegex"]) for m in listed[0]["matchers"]} == {
        ("service", "checkout", False),
        ("severity", "high|critical", True),
    }
    assert amtool("silence", "query", "-q", "service=checkout").split() == [silence_id]
    assert amtool("silence", "query", "-q", "service=db").split() == []

    amtool("silence", "expire", silence_id)
    assert amtool("silence", "query", "-q").split() == []
    assert amtool("silence", "query", "-q", "--expired").split() == [silence_id]
    # Expired through amtool: the alert it muted is correlated now.
    with connect(platform.database_url) as connection:
        row = connection.execute(
            "SELECT incident_id FROM alerts WHERE id = %s", (muted["alert_id"],)
        ).fetchone()
    assert row is not None
    assert row[0] is not None
