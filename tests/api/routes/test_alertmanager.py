import time

import httpx
import pytest

from support.database import connect
from support.platform import Platform, create_integration


@pytest.fixture
def am_auth(platform: Platform) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_integration(platform, 'alertmanager')}"}


def am_alert(
    name: str, status: str = "firing", fingerprint: str | None = None, **labels: str
) -> dict[str, object]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} is happening"},
        "startsAt": "2026-11-26T10:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T10:05:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint or f"fp-{name}",
    }


def payload(*alerts: object, **extra: object) -> dict[str, object]:
    return {
        "version": "4",
        "receiver": "incident-platform",
        "status": "firing",
        "groupKey": '{}:{alertname="x"}',
        "truncatedAlerts": 0,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
        **extra,
    }


def test_webhook_correlates_in_alert_order(
    ingest: httpx.Client, am_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    body = payload(
        am_alert("HighLatency", job="api", severity="page"),
        am_alert("HighErrors", job="api", severity="error"),
        am_alert("HighLatency", job="api", severity="page"),
        am_alert("DiskFull", service="db", job="node"),
        futureField={"ignored": True},
    )
    response = ingest.post("/api/v1/integrations/alertmanager", json=body, headers=am_auth)
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["action"] for r in results] == ["created", "attached", "deduplicated", "created"]
    assert results[0]["incident_id"] == results[1]["incident_id"] == results[2]["incident_id"]
    incidents = {i["service"]: i for i in incidents_api.get("/api/v1/incidents").json()["data"]}
    assert set(incidents) == {"api", "db"}
    assert incidents["api"]["severity"] == "critical"
    assert incidents["api"]["alert_count"] == 2


def test_resolved_notification_auto_resolves(
    ingest: httpx.Client, am_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    ingest.post(
        "/api/v1/integrations/alertmanager", json=payload(am_alert("A", job="x")), headers=am_auth
    )
    resolved = payload(am_alert("A", status="resolved", job="x"), status="resolved")
    response = ingest.post("/api/v1/integrations/alertmanager", json=resolved, headers=am_auth)
    assert response.json()["results"][0]["action"] == "resolved"
    assert incidents_api.get("/api/v1/incidents").json()["data"][0]["status"] == "resolved"


WINDOW_SECONDS = 2.0


def test_hundred_alerts_are_one_transaction(
    platform: Platform, ingest: httpx.Client, am_auth: dict[str, str]
) -> None:
    """Counts transactions on the server: a batch of 100 commits once, not 100 times."""
    alerts = [am_alert(f"A{n}", job=f"svc-{n % 7}") for n in range(100)]

    def commits() -> int:
        with connect(platform.database_url) as connection:
            row = connection.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
            assert row is not None
            return int(str(row[0]))

    # The services commit in the background too (event-feed reads, sweeps), and the server's
    # statistics count other sessions' commits up to a second late. So the batch's window is
    # compared with an idle window of the same length (at least WINDOW seconds each).
    started = time.monotonic()
    before = commits()
    response = ingest.post(
        "/api/v1/integrations/alertmanager", json=payload(*alerts), headers=am_auth
    )
    window = max(WINDOW_SECONDS, time.monotonic() - started)
    time.sleep(max(0.0, started + window - time.monotonic()))
    during_batch = commits() - before
    idle_before = commits()
    time.sleep(window)
    idle = commits() - idle_before
    assert response.status_code == 202
    assert len(response.json()["results"]) == 100
    assert sum(r["action"] == "created" for r in response.json()["results"]) == 7
    # One for the batch, a few for the auth lookup, pool pre-pings and our own probes, give or
    # take the background's jitter (seen: 30 commits in an idle window, 52 with the batch, on
    # a loaded machine); per-alert commits would add ~100.
    assert during_batch - idle <= 50, (during_batch, idle)
    # The timeline gets one line per incident for the batch, not one per alert.
    with connect(platform.database_url) as connection:
        lines = connection.execute(
            "SELECT kind, message FROM timeline_events ORDER BY id"
        ).fetchall()
    assert sorted(str(kind) for kind, _ in lines) == ["alert_attached"] * 7 + ["created"] * 7
    attached = [str(message) for kind, message in lines if kind == "alert_attached"]
    assert all(" alerts attached, first: " in message for message in attached)


def test_one_invalid_alert_among_a_hundred_loses_none_of_the_others(
    ingest: httpx.Client, am_auth: dict[str, str], platform: Platform
) -> None:
    alerts = [am_alert(f"A{n}", service=f"svc-{n % 5}") for n in range(100)]
    # Alertmanager drops a batch on 4xx and retries all of it on 5xx: either would lose
    # or repeat the 99 good alerts because of the one a broken exporter labelled with NUL.
    alerts[42] = am_alert("Broken", service="svc-0", instance="db-1\u0000")
    response = ingest.post(
        "/api/v1/integrations/alertmanager", json=payload(*alerts), headers=am_auth
    )
    assert response.status_code == 202
    results = response.json()["results"]
    assert len(results) == 100
    rejected = results[42]
    assert (rejected["action"], rejected["alert_id"], rejected["incident_id"]) == (
        "rejected",
        None,
        None,
    )
    assert rejected["reason"].startswith("alerts[42].labels: ")
    assert "NUL character" in rejected["reason"]
    others = results[:42] + results[43:]
    assert {r["action"] for r in others} <= {"created", "attached"}
    assert all(r["alert_id"] is not None and r["reason"] is None for r in others)
    with connect(platform.database_url) as connection:
        stored = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE labels->>'alertname' = 'Broken') FROM alerts"
        ).fetchone()
    assert stored == (99, 0)


def test_alerts_of_the_wrong_shape_are_rejected_one_by_one(
    ingest: httpx.Client, am_auth: dict[str, str]
) -> None:
    body = payload(am_alert("ok"), {**am_alert("bad"), "status": "smoldering"}, "not an alert")
    response = ingest.post("/api/v1/integrations/alertmanager", json=body, headers=am_auth)
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["action"] for r in results] == ["created", "rejected", "rejected"]
    assert results[1]["reason"].startswith("alerts[1].status: Input should be 'firing' or")
    assert results[2]["reason"].startswith("alerts[2]: Input should be a valid dictionary")


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"alerts": "none"}, ["body", "alerts"]),
        ({"alerts": None}, ["body", "alerts"]),
        ({"truncatedAlerts": "many"}, ["body", "truncatedAlerts"]),
    ],
)
def test_an_invalid_envelope_refuses_the_whole_notification(
    ingest: httpx.Client,
    am_auth: dict[str, str],
    platform: Platform,
    change: dict[str, object],
    location: list[object],
) -> None:
    body = {**payload(am_alert("ok")), **change}
    response = ingest.post("/api/v1/integrations/alertmanager", json=body, headers=am_auth)
    assert response.status_code == 422
    assert location in [e["loc"] for e in response.json()["detail"]]
    with connect(platform.database_url) as connection:
        row = connection.execute("SELECT count(*) FROM alerts").fetchone()
    assert row == (0,)


def test_a_long_description_and_fingerprint_are_stored_and_read_back(
    ingest: httpx.Client, am_auth: dict[str, str], platform: Platform
) -> None:
    alert = am_alert("Verbose", fingerprint="f" * 255)
    alert["annotations"] = {"summary": "verbose", "description": "d" * 20_000}
    first = ingest.post("/api/v1/integrations/alertmanager", json=payload(alert), headers=am_auth)
    assert first.status_code == 202, first.text
    assert first.json()["results"][0]["action"] == "created"
    # The prefixed fingerprint no longer fits its column: a digest stands in, stably.
    again = ingest.post("/api/v1/integrations/alertmanager", json=payload(alert), headers=am_auth)
    assert again.json()["results"][0]["action"] == "deduplicated"
    listed = ingest.get("/api/v1/alerts", headers=platform.admin())
    assert listed.status_code == 200, listed.text
    [stored] = listed.json()["data"]
    assert len(stored["description"]) == 8192
    assert len(stored["fingerprint"]) <= 255
