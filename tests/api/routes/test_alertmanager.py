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


def payload(*alerts: dict[str, object], **extra: object) -> dict[str, object]:
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

    before = commits()
    response = ingest.post(
        "/api/v1/integrations/alertmanager", json=payload(*alerts), headers=am_auth
    )
    after = commits()
    assert response.status_code == 202
    assert len(response.json()["results"]) == 100
    assert sum(r["action"] == "created" for r in response.json()["results"]) == 7
    # One for the batch, a few for the auth lookup, pool pre-pings and our own probes,
    # which the statistics collector may count a little late; per-alert commits would be ~100.
    assert after - before <= 12
    # The timeline gets one line per incident for the batch, not one per alert.
    with connect(platform.database_url) as connection:
        lines = connection.execute(
            "SELECT kind, message FROM timeline_events ORDER BY id"
        ).fetchall()
    assert sorted(str(kind) for kind, _ in lines) == ["alert_attached"] * 7 + ["created"] * 7
    attached = [str(message) for kind, message in lines if kind == "alert_attached"]
    assert all(" alerts attached, first: " in message for message in attached)


def test_bad_alert_status_is_422_naming_its_position(
    ingest: httpx.Client, am_auth: dict[str, str], platform: Platform
) -> None:
    body = payload(am_alert("ok"), {**am_alert("bad"), "status": "smoldering"})
    response = ingest.post("/api/v1/integrations/alertmanager", json=body, headers=am_auth)
    assert response.status_code == 422
    assert ["body", "alerts", 1, "status"] in [e["loc"] for e in response.json()["detail"]]
    with connect(platform.database_url) as connection:
        row = connection.execute("SELECT count(*) FROM alerts").fetchone()
    assert row == (0,)
