"""Metrics as Prometheus scrapes them from multi-worker services."""

from pathlib import Path

import httpx
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

from incident_platform.metrics import NOTIFICATION_CHANNELS
from incident_platform.notification.rules import Channel
from support.database import connect
from support.platform import Platform
from support.services import ServiceProcess


def sample(url: str, name: str, **labels: str) -> float:
    text = httpx.get(url + "/metrics").text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                total += metric.value
    return total


def per_worker(directory: Path, name: str, **labels: str) -> dict[int, float]:
    """``name``'s value in each worker's own metric file, by worker pid."""
    values: dict[int, float] = {}
    for path in sorted(directory.glob("*_*.db")):
        if path.stat().st_size == 0:
            continue  # a worker is creating it this moment: read it on the next poll
        pid = int(path.stem.rsplit("_", 1)[-1])
        for family in multiprocess.MultiProcessCollector.merge([str(path)]):  # type: ignore[no-untyped-call]
            for metric in family.samples:
                if metric.name == name and all(
                    metric.labels.get(k) == v for k, v in labels.items()
                ):
                    values[pid] = values.get(pid, 0.0) + metric.value
    return values


def test_alert_counter_sums_across_workers(
    platform: Platform, generic_auth: dict[str, str], tmp_path: Path
) -> None:
    """A service of its own with two workers, so each worker's file can be read and every
    count is exact: both workers serve, and the scrape is the sum of the two."""
    service = ServiceProcess(
        "incident_platform.entrypoints.alert_ingestion",
        {
            "DATABASE_URL": platform.database_url,
            "PLATFORM_ADMIN_TOKEN": platform.admin_token,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
            "RUN_ENGINE": "false",
        },
        workers=2,
    ).start()
    try:
        service.wait_until("/readyz")
        url = service.url
        sent = 0
        # New connections each time, so both worker processes take requests; the kernel
        # decides which, so send until each has served some (bounded).
        while sent < 400:
            response = httpx.post(
                url + "/api/v1/alerts",
                json={"service": f"workers-{sent}", "summary": "x"},
                headers=generic_auth,
            )
            assert response.json()["action"] == "created"
            sent += 1
            served = per_worker(tmp_path, "alerts_received_total", action="created")
            if sent >= 30 and len(served) == 2 and all(served.values()):
                break
        for _ in range(10):
            response = httpx.post(
                url + "/api/v1/alerts",
                json={"service": "workers-0", "summary": "x"},
                headers=generic_auth,
            )
            assert response.json()["action"] == "deduplicated"
        created = per_worker(tmp_path, "alerts_received_total", action="created")
        assert len(created) == 2, created
        assert all(created.values()), created
        assert sum(created.values()) == sent
        assert sample(url, "alerts_received_total", source="generic", action="created") == sent
        assert sample(url, "alerts_received_total", source="generic", action="deduplicated") == 10
        requests = per_worker(
            tmp_path, "http_request_duration_seconds_count", route="/api/v1/alerts"
        )
        assert sum(requests.values()) == sent + 10
        assert sample(url, "http_request_duration_seconds_count", route="/api/v1/alerts") == (
            sent + 10
        )
    finally:
        service.stop()


def test_acknowledge_and_resolve_feed_the_histograms(
    platform: Platform,
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
) -> None:
    labels = {"service": "histo", "severity": "critical"}
    url = platform.incidents.url
    acked = sample(url, "incident_time_to_acknowledge_seconds_count", **labels)
    resolved = sample(url, "incident_time_to_resolve_seconds_count", **labels)
    one_day = sample(url, "incident_time_to_resolve_seconds_bucket", le="86400.0", **labels)
    incident = ingest.post(
        "/api/v1/alerts",
        json={"service": "histo", "summary": "x", "severity": "critical"},
        headers=generic_auth,
    ).json()["incident_id"]
    incidents_api.post(f"/api/v1/incidents/{incident}/acknowledge")
    incidents_api.post(f"/api/v1/incidents/{incident}/resolve")
    assert sample(url, "incident_time_to_acknowledge_seconds_count", **labels) == acked + 1
    assert sample(url, "incident_time_to_resolve_seconds_count", **labels) == resolved + 1
    assert (
        sample(url, "incident_time_to_resolve_seconds_bucket", le="86400.0", **labels)
        == one_day + 1
    )


def test_auto_resolve_feeds_the_resolve_histogram_of_the_ingestion_service(
    platform: Platform, ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    labels = {"service": "auto", "severity": "warning"}
    url = platform.ingestion.url
    before = sample(url, "incident_time_to_resolve_seconds_count", **labels)
    alert = {"service": "auto", "summary": "x", "fingerprint": "auto-1"}
    ingest.post("/api/v1/alerts", json=alert, headers=generic_auth)
    ingest.post("/api/v1/alerts", json={**alert, "status": "resolved"}, headers=generic_auth)
    assert sample(url, "incident_time_to_resolve_seconds_count", **labels) == before + 1


def test_open_incident_gauge_comes_from_the_database_and_survives_a_restart(
    platform: Platform,
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
) -> None:
    for service in ("g1", "g2", "g3"):
        ingest.post(
            "/api/v1/alerts",
            json={"service": service, "summary": "x", "severity": "high"},
            headers=generic_auth,
        )
    first = incidents_api.get("/api/v1/incidents", params={"service": "g1"}).json()["data"][0]
    incidents_api.post(f"/api/v1/incidents/{first['id']}/acknowledge")
    url = platform.incidents.url
    assert sample(url, "incidents_open", status="triggered", severity="high") == 2
    assert sample(url, "incidents_open", service="g1", status="acknowledged") == 1
    fresh = ServiceProcess(
        "incident_platform.entrypoints.incident_management",
        {"DATABASE_URL": platform.database_url, "PLATFORM_ADMIN_TOKEN": platform.admin_token},
    ).start()
    try:
        fresh.wait_until("/readyz")
        assert sample(fresh.url, "incidents_open", status="triggered", severity="high") == 2
        assert sample(fresh.url, "incidents_open", service="g1", status="acknowledged") == 1
    finally:
        fresh.stop()


def test_every_service_reports_readiness_pool_and_worker_process_metrics(
    platform: Platform,
) -> None:
    for service in (platform.ingestion, platform.incidents, platform.oncall):
        url = service.url
        assert sample(url, "platform_ready") == 1, service.module
        # Two workers, each with its own pool: capacities add up across the workers' files.
        assert sample(url, "db_pool_connections_max") >= 2 * 15, service.module
        assert sample(url, "db_pool_connections_in_use") >= 0, service.module
        assert sample(url, "process_resident_memory_bytes") > 10_000_000, service.module
        assert sample(url, "process_cpu_seconds_total") > 0, service.module


def test_outbox_gauges_read_the_oldest_pending_delivery_from_the_database(
    platform: Platform, ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    url = platform.oncall.url
    assert sample(url, "notification_outbox_pending") == 0
    assert sample(url, "notification_outbox_oldest_pending_seconds") == 0
    incident = ingest.post(
        "/api/v1/alerts", json={"service": "outbox", "summary": "x"}, headers=generic_auth
    ).json()["incident_id"]
    with connect(platform.database_url) as connection:
        for minutes, status in ((10, "pending"), (3, "pending"), (60, "sent")):
            connection.execute(
                "INSERT INTO notifications (incident_id, channel, address, event, status,"
                " attempts, next_attempt_at, data, created_at)"
                " VALUES (%s, 'webhook', 'http://127.0.0.1:9/x', 'page', %s, 0, now(), '{}',"
                " now() - make_interval(mins => %s))",
                (incident, status, minutes),
            )
    assert sample(url, "notification_outbox_pending") == 2
    oldest = sample(url, "notification_outbox_oldest_pending_seconds")
    assert 600 <= oldest < 3600, "the oldest pending one, not the sent one"


def test_every_notification_channel_and_outcome_is_exported_before_any_delivery(
    platform: Platform,
) -> None:
    text = httpx.get(platform.oncall.url + "/metrics").text
    exported = {
        (s.labels["channel"], s.labels["outcome"])
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "notifications_sent_total"
    }
    assert set(NOTIFICATION_CHANNELS) == {channel.value for channel in Channel}
    for channel in Channel:
        for outcome in ("sent", "retry", "failed"):
            assert (channel.value, outcome) in exported


def test_only_the_engine_reports_engine_ticks_and_only_on_call_notifications(
    platform: Platform,
) -> None:
    """The session's services run without the engine (RUN_ENGINE=false): no engine series at
    all, rather than a last tick of 0 that would read as a stalled engine."""
    for service in (platform.ingestion, platform.incidents, platform.oncall):
        text = httpx.get(service.url + "/metrics").text
        assert "escalation_engine_last_tick_timestamp_seconds" not in text, service.module
        assert ("notifications_sent_total{" in text) == (service is platform.oncall), service.module
