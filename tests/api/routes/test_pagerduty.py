"""PagerDuty Events API v2, driven with PagerDuty's own Python client where it fits."""

from collections.abc import Mapping

import httpx
import pagerduty
import pytest

from support.platform import Platform, create_integration


@pytest.fixture
def routing_key(platform: Platform) -> str:
    return create_integration(platform, "pagerduty", default_service="payments")


def enqueue(ingest: httpx.Client, body: Mapping[str, object]) -> httpx.Response:
    return ingest.post("/v2/enqueue", json=body)


def trigger(routing_key: str, **payload: object) -> dict[str, object]:
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {"summary": "DB CPU at 98%", "source": "db-1", "severity": "error", **payload},
    }


def test_official_client_triggers_and_resolves(
    platform: Platform, routing_key: str, incidents_api: httpx.Client
) -> None:
    client = pagerduty.EventsApiV2Client(routing_key)
    # The client insists on https (production sits behind TLS); loopback is plain http.
    client._url = platform.ingestion.url
    dedup_key = client.trigger(
        "Disk full on db-1",
        "db-1",
        dedup_key="disk-db-1",
        severity="critical",
        custom_details={"free": "0%"},
    )
    assert dedup_key == "disk-db-1"
    incidents = incidents_api.get("/api/v1/incidents").json()["data"]
    assert [(i["service"], i["severity"], i["status"]) for i in incidents] == [
        ("payments", "critical", "triggered")
    ]
    client.acknowledge("disk-db-1")
    assert incidents_api.get("/api/v1/incidents").json()["data"][0]["status"] == "acknowledged"
    client.resolve("disk-db-1")
    assert incidents_api.get("/api/v1/incidents").json()["data"][0]["status"] == "resolved"


def test_trigger_answers_like_pagerduty_and_generates_a_dedup_key(
    ingest: httpx.Client, routing_key: str, incidents_api: httpx.Client
) -> None:
    response = enqueue(ingest, trigger(routing_key, component="orders"))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "Event processed"
    assert len(body["dedup_key"]) >= 16
    # component wins over the integration's default service and the source
    incident = incidents_api.get("/api/v1/incidents").json()["data"][0]
    assert (incident["service"], incident["severity"]) == ("orders", "high")


def test_same_dedup_key_deduplicates_and_reopens_after_resolve(
    ingest: httpx.Client, routing_key: str, incidents_api: httpx.Client
) -> None:
    event = {**trigger(routing_key), "dedup_key": "k1"}
    enqueue(ingest, event)
    enqueue(ingest, event)
    incidents = incidents_api.get("/api/v1/incidents").json()["data"]
    assert len(incidents) == 1
    detail = incidents_api.get(f"/api/v1/incidents/{incidents[0]['id']}").json()
    assert detail["alerts"][0]["occurrences"] == 2
    resolve = {"routing_key": routing_key, "event_action": "resolve", "dedup_key": "k1"}
    assert enqueue(ingest, resolve).status_code == 202
    assert incidents_api.get("/api/v1/incidents").json()["data"][0]["status"] == "resolved"
    enqueue(ingest, event)
    incidents = incidents_api.get("/api/v1/incidents").json()["data"]
    assert [i["status"] for i in incidents] == ["triggered", "resolved"]


def test_service_falls_back_to_the_source_without_a_default(
    platform: Platform, ingest: httpx.Client, incidents_api: httpx.Client
) -> None:
    key = create_integration(platform, "pagerduty", name="no-default")
    enqueue(ingest, trigger(key))
    assert incidents_api.get("/api/v1/incidents").json()["data"][0]["service"] == "db-1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_action": "explode"}, "event_action"),
        ({"payload": {"summary": "x", "source": "y", "severity": "fatal"}}, "payload.severity"),
        (
            {"payload": {"summary": "x" * 1025, "source": "y", "severity": "info"}},
            "payload.summary",
        ),
        ({"payload": {"source": "y", "severity": "info"}}, "payload.summary"),
        ({"dedup_key": "k" * 256}, "dedup_key"),
        ({"payload": None}, "payload"),
    ],
)
def test_invalid_events_are_400_in_pagerdutys_shape(
    ingest: httpx.Client,
    routing_key: str,
    incidents_api: httpx.Client,
    change: dict[str, object],
    field: str,
) -> None:
    response = enqueue(ingest, {**trigger(routing_key), **change})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert any(field in error for error in body["errors"]), body
    assert incidents_api.get("/api/v1/incidents").json()["count"] == 0


def test_unknown_or_wrong_kind_routing_key_is_400(platform: Platform, ingest: httpx.Client) -> None:
    generic = create_integration(platform, "generic")
    for key in ("R0UT1NGKEYTHATDOESNOTEXIST000000", generic):
        response = enqueue(ingest, trigger(key))
        assert response.status_code == 400
        assert response.json()["errors"] == ["routing_key: invalid routing key"]


def test_malformed_json_is_400(ingest: httpx.Client) -> None:
    response = ingest.post(
        "/v2/enqueue", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
