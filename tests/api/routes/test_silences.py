"""Alertmanager API v2 silences on the ingestion service, and what they do to alerts."""

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from incident_platform.escalation.engine import update_all
from support.database import connect
from support.oncall import create_policy, create_schedule, create_user, daily_schedule, route
from support.platform import Platform, create_integration


def make_token(platform: Platform, role: str) -> dict[str, str]:
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": f"silence-{role}", "role": role},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def responder(platform: Platform) -> dict[str, str]:
    return make_token(platform, "responder")


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def silence_body(
    *matchers: dict[str, Any], minutes: float = 60, start_minutes: float = -1, **extra: Any
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "matchers": list(matchers) or [{"name": "service", "value": "checkout", "isRegex": False}],
        "startsAt": iso(now + timedelta(minutes=start_minutes)),
        "endsAt": iso(now + timedelta(minutes=minutes)),
        "createdBy": "alice",
        "comment": "deploying",
        **extra,
    }


def create_silence(ingest: httpx.Client, auth: dict[str, str], **kwargs: Any) -> str:
    matchers = kwargs.pop("matchers", ())
    response = ingest.post("/api/v2/silences", json=silence_body(*matchers, **kwargs), headers=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["silenceID"])


def fire(ingest: httpx.Client, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"service": "checkout", "summary": "Checkout down", "severity": "critical", **overrides}
    response = ingest.post("/api/v1/alerts", json=body, headers=auth)
    assert response.status_code == 202, response.text
    return dict(response.json())


def alert_row(platform: Platform, alert_id: int) -> tuple[Any, ...]:
    with connect(platform.database_url) as connection:
        row = connection.execute(
            "SELECT incident_id, silence_id::text, status FROM alerts WHERE id = %s", (alert_id,)
        ).fetchone()
    assert row is not None
    return tuple(row)


def incident_count(platform: Platform) -> int:
    with connect(platform.database_url) as connection:
        row = connection.execute("SELECT count(*) FROM incidents").fetchone()
    assert row is not None
    return int(str(row[0]))


def test_create_read_list_and_expire_in_alertmanager_shapes(
    ingest: httpx.Client, responder: dict[str, str], platform: Platform
) -> None:
    viewer = make_token(platform, "viewer")
    body = silence_body(
        {"name": "service", "value": "checkout", "isRegex": False},
        {"name": "env", "value": "prod|staging", "isRegex": True, "isEqual": False},
    )
    created = ingest.post("/api/v2/silences", json=body, headers=responder)
    assert created.status_code == 200
    silence_id = created.json()["silenceID"]
    one = ingest.get(f"/api/v2/silence/{silence_id}", headers=viewer).json()
    assert one["id"] == silence_id
    assert one["status"] == {"state": "active"}
    assert one["matchers"] == [
        {"name": "service", "value": "checkout", "isRegex": False, "isEqual": True},
        {"name": "env", "value": "prod|staging", "isRegex": True, "isEqual": False},
    ]
    assert one["createdBy"] == "alice"
    assert one["comment"] == "deploying"
    assert {"updatedAt", "startsAt", "endsAt"} <= set(one)
    listed = ingest.get("/api/v2/silences", headers=viewer).json()
    assert [s["id"] for s in listed] == [silence_id]

    expired = ingest.delete(f"/api/v2/silence/{silence_id}", headers=responder)
    assert expired.status_code == 200
    after = ingest.get(f"/api/v2/silence/{silence_id}", headers=viewer).json()
    assert after["status"] == {"state": "expired"}
    assert after["endsAt"] < one["endsAt"]


def test_pending_silence_and_update_by_id(ingest: httpx.Client, responder: dict[str, str]) -> None:
    silence_id = create_silence(ingest, responder, start_minutes=30, minutes=90)
    assert ingest.get(f"/api/v2/silence/{silence_id}", headers=responder).json()["status"] == {
        "state": "pending"
    }
    changed = ingest.post(
        "/api/v2/silences", json=silence_body(id=silence_id, comment="moved"), headers=responder
    )
    assert changed.json() == {"silenceID": silence_id}
    again = ingest.get(f"/api/v2/silence/{silence_id}", headers=responder).json()
    assert again["comment"] == "moved"
    assert again["status"] == {"state": "active"}
    unknown = ingest.post(
        "/api/v2/silences",
        json=silence_body(id="00000000-0000-4000-8000-000000000000"),
        headers=responder,
    )
    assert unknown.status_code == 404
    assert len(ingest.get("/api/v2/silences", headers=responder).json()) == 1


def test_silences_expired_long_ago_are_no_longer_listed(
    ingest: httpx.Client, responder: dict[str, str]
) -> None:
    recent = create_silence(ingest, responder, start_minutes=-120, minutes=-60)
    create_silence(ingest, responder, start_minutes=-6 * 24 * 60, minutes=-5 * 24 * 60 - 60)
    listed = ingest.get("/api/v2/silences", headers=responder).json()
    assert [(s["id"], s["status"]["state"]) for s in listed] == [(recent, "expired")]


def test_filter_selects_silences_by_their_matchers(
    ingest: httpx.Client, responder: dict[str, str]
) -> None:
    checkout = create_silence(ingest, responder)
    create_silence(
        ingest, responder, matchers=[{"name": "service", "value": "db", "isRegex": False}]
    )
    found = ingest.get(
        "/api/v2/silences", params={"filter": 'service="checkout"'}, headers=responder
    ).json()
    assert [s["id"] for s in found] == [checkout]
    bad = ingest.get("/api/v2/silences", params={"filter": "service"}, headers=responder)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "filter"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"matchers": []}, "matchers"),
        ({"matchers": [{"name": "", "value": "x", "isRegex": False}]}, "name"),
        ({"matchers": [{"name": "service", "value": "(", "isRegex": True}]}, "matchers"),
        ({"matchers": [{"name": "service", "value": ".*", "isRegex": True}]}, "matchers"),
        ({"endsAt": "2000-01-01T00:00:00Z"}, "endsAt"),
        ({"startsAt": "9999-01-01T00:00:00Z"}, "startsAt"),
        ({"comment": "bad\u0000comment"}, "comment"),
    ],
)
def test_bad_silences_are_refused_naming_the_field(
    ingest: httpx.Client, responder: dict[str, str], change: dict[str, Any], field: str
) -> None:
    response = ingest.post("/api/v2/silences", json={**silence_body(), **change}, headers=responder)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(field in [str(part) for part in error["loc"]] for error in detail), detail
    if change.get("matchers") and change["matchers"][0]["value"] == "(":
        assert "invalid regular expression" in detail[0]["msg"]
    assert ingest.get("/api/v2/silences", headers=responder).json() == []


def test_reading_needs_a_viewer_and_writing_a_responder(
    ingest: httpx.Client, platform: Platform
) -> None:
    viewer = make_token(platform, "viewer")
    assert ingest.get("/api/v2/silences").status_code == 401
    assert ingest.get("/api/v2/status").status_code == 401
    assert (
        ingest.get("/api/v2/silences", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert ingest.get("/api/v2/status", headers=viewer).status_code == 200
    assert ingest.post("/api/v2/silences", json=silence_body()).status_code == 401
    refused = ingest.post("/api/v2/silences", json=silence_body(), headers=viewer)
    assert refused.status_code == 403
    silence_id = create_silence(ingest, make_token(platform, "responder"))
    assert ingest.delete(f"/api/v2/silence/{silence_id}", headers=viewer).status_code == 403
    assert ingest.get("/api/v2/silences", headers=viewer).json()[0]["status"]["state"] == "active"


def test_unknown_silence_is_404(ingest: httpx.Client, responder: dict[str, str]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert ingest.get(f"/api/v2/silence/{missing}", headers=responder).status_code == 404
    assert ingest.delete(f"/api/v2/silence/{missing}", headers=responder).status_code == 404


def test_silenced_alert_is_stored_opens_nothing_and_is_counted(
    ingest: httpx.Client,
    responder: dict[str, str],
    generic_auth: dict[str, str],
    platform: Platform,
) -> None:
    silence_id = create_silence(
        ingest,
        responder,
        matchers=[{"name": "severity", "value": "high|critical", "isRegex": True}],
    )
    before = ingest.get("/metrics").text
    muted = fire(ingest, generic_auth)
    assert muted == {"alert_id": muted["alert_id"], "incident_id": None, "action": "silenced"}
    assert fire(ingest, generic_auth)["action"] == "deduplicated"
    other = fire(ingest, generic_auth, service="db", severity="warning")
    assert other["action"] == "created"
    assert incident_count(platform) == 1
    listed = ingest.get("/api/v1/alerts", params={"service": "checkout"}, headers=responder)
    (alert,) = listed.json()["data"]
    assert alert["silence_id"] == silence_id
    assert alert["incident_id"] is None
    metrics = ingest.get("/metrics").text
    assert "silences_active 1.0" in metrics
    assert _silenced_count(metrics) == _silenced_count(before) + 1


def _silenced_count(metrics: str) -> float:
    prefix = 'alerts_received_total{action="silenced",source="generic"} '
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return 0.0


def test_expiring_releases_firing_alerts_into_an_incident_and_leaves_resolved_ones_quiet(
    ingest: httpx.Client,
    responder: dict[str, str],
    generic_auth: dict[str, str],
    platform: Platform,
    incidents_api: httpx.Client,
) -> None:
    silence_id = create_silence(ingest, responder)
    still = fire(ingest, generic_auth, summary="Checkout down")
    second = fire(ingest, generic_auth, summary="Checkout slow", severity="high")
    gone = fire(ingest, generic_auth, summary="Checkout flaky")
    fire(ingest, generic_auth, summary="Checkout flaky", status="resolved")
    assert incident_count(platform) == 0

    assert ingest.delete(f"/api/v2/silence/{silence_id}", headers=responder).status_code == 200
    incident_id, kept_silence, status = alert_row(platform, still["alert_id"])
    assert incident_id is not None
    assert kept_silence == silence_id
    assert status == "firing"
    assert alert_row(platform, second["alert_id"])[0] == incident_id
    assert alert_row(platform, gone["alert_id"])[:1] == (None,)
    incident = incidents_api.get(f"/api/v1/incidents/{incident_id}").json()
    assert incident["status"] == "triggered"
    assert incident["alert_count"] == 2
    assert incident["severity"] == "critical"
    assert incident["timeline"][0]["message"].startswith("Incident opened by alert after its")
    # A new alert now joins the incident as usual.
    assert fire(ingest, generic_auth, summary="Checkout 500s")["incident_id"] == incident_id


def test_released_alert_joins_an_incident_opened_meanwhile(
    ingest: httpx.Client, responder: dict[str, str], generic_auth: dict[str, str]
) -> None:
    silence_id = create_silence(
        ingest, responder, matchers=[{"name": "alertname", "value": "Disk", "isRegex": False}]
    )
    muted = fire(ingest, generic_auth, summary="Disk full", labels={"alertname": "Disk"})
    opened = fire(ingest, generic_auth, summary="CPU high", labels={"alertname": "CPU"})
    assert muted["action"] == "silenced"
    assert opened["action"] == "created"
    ingest.delete(f"/api/v2/silence/{silence_id}", headers=responder)
    alerts = ingest.get("/api/v1/alerts", headers=responder).json()["data"]
    assert {a["incident_id"] for a in alerts} == {opened["incident_id"]}


def test_changing_a_silence_so_it_no_longer_matches_releases_its_alerts(
    ingest: httpx.Client,
    responder: dict[str, str],
    generic_auth: dict[str, str],
    platform: Platform,
) -> None:
    silence_id = create_silence(ingest, responder)
    muted = fire(ingest, generic_auth)
    body = silence_body({"name": "service", "value": "db", "isRegex": False}, id=silence_id)
    assert ingest.post("/api/v2/silences", json=body, headers=responder).status_code == 200
    assert alert_row(platform, muted["alert_id"])[0] is not None


def test_overlapping_silence_keeps_muting_after_the_first_expires(
    ingest: httpx.Client,
    responder: dict[str, str],
    generic_auth: dict[str, str],
    platform: Platform,
) -> None:
    first = create_silence(ingest, responder)
    second = create_silence(
        ingest, responder, matchers=[{"name": "severity", "value": "critical", "isRegex": False}]
    )
    muted = fire(ingest, generic_auth)
    assert alert_row(platform, muted["alert_id"])[1] == first
    ingest.delete(f"/api/v2/silence/{first}", headers=responder)
    assert alert_row(platform, muted["alert_id"])[:2] == (None, second)
    ingest.delete(f"/api/v2/silence/{second}", headers=responder)
    assert alert_row(platform, muted["alert_id"])[0] is not None


def test_natural_expiry_is_released_by_the_sweep(
    ingest: httpx.Client,
    responder: dict[str, str],
    generic_auth: dict[str, str],
    platform: Platform,
) -> None:
    create_silence(ingest, responder, minutes=0.05)  # three seconds
    muted = fire(ingest, generic_auth)
    assert muted["action"] == "silenced"
    deadline = time.monotonic() + 60
    while alert_row(platform, muted["alert_id"])[0] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alert_row(platform, muted["alert_id"])[0] is not None
    assert incident_count(platform) == 1


def test_alertmanager_and_pagerduty_alerts_are_silenced_too(
    ingest: httpx.Client, responder: dict[str, str], platform: Platform
) -> None:
    create_silence(
        ingest, responder, matchers=[{"name": "service", "value": "payments", "isRegex": False}]
    )
    am_key = create_integration(platform, "alertmanager")
    notification = {
        "version": "4",
        "status": "firing",
        "receiver": "platform",
        "groupKey": "{}",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Down", "service": "payments", "severity": "critical"},
                "annotations": {"summary": "Payments down"},
                "startsAt": iso(datetime.now(UTC)),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "abc123",
            }
        ],
    }
    answer = ingest.post(
        "/api/v1/integrations/alertmanager",
        json=notification,
        headers={"Authorization": f"Bearer {am_key}"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["results"][0]["action"] == "silenced"
    routing_key = create_integration(platform, "pagerduty", default_service="payments")
    event = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": "pd-1",
        "payload": {"summary": "Card errors", "source": "pay-1", "severity": "error"},
    }
    assert ingest.post("/v2/enqueue", json=event).status_code == 202
    assert incident_count(platform) == 0
    with connect(platform.database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM alerts WHERE silence_id IS NOT NULL AND incident_id IS NULL"
        ).fetchone()
    assert row is not None
    assert row[0] == 2


def test_nobody_is_paged_while_silenced_and_the_release_pages(
    ingest: httpx.Client,
    responder: dict[str, str],
    generic_auth: dict[str, str],
    oncall_api: httpx.Client,
    platform: Platform,
    engine: Engine,
) -> None:
    alice = create_user(
        oncall_api, "alice", [{"type": "webhook", "address": "http://127.0.0.1:9/a"}]
    )
    schedule = create_schedule(
        oncall_api, daily_schedule("primary", [alice], start="2026-01-01T09:00:00+01:00")
    )
    policy = create_policy(
        oncall_api,
        "pager",
        [{"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule}]}],
    )
    route(oncall_api, "checkout", policy)
    silence_id = create_silence(ingest, responder)
    fire(ingest, generic_auth)
    update_all(engine, datetime.now(UTC) + timedelta(minutes=1))
    with connect(platform.database_url) as connection:
        assert connection.execute("SELECT count(*) FROM notifications").fetchone() == (0,)
    ingest.delete(f"/api/v2/silence/{silence_id}", headers=responder)
    update_all(engine, datetime.now(UTC) + timedelta(minutes=1))
    with connect(platform.database_url) as connection:
        assert connection.execute("SELECT count(*) FROM notifications").fetchone() == (1,)


# --- The real ``amtool`` (Alertmanager 0.25's CLI) drives the silences unchanged ---

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
