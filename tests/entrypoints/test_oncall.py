"""End to end: an alert pages the on-call person by webhook and their link acknowledges."""

from pathlib import Path

import httpx

from support.oncall import create_policy, create_schedule, create_user, daily_schedule, route
from support.platform import Platform
from support.services import ServiceProcess
from support.webhook import webhook_receiver


def test_alert_to_page_to_acknowledge(
    platform: Platform,
    oncall_api: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
    tmp_path: Path,
) -> None:
    # The session's on-call service runs without its engine (tests drive it on a
    # clock); this one runs the engine in the background as production does.
    paging_service = ServiceProcess(
        "incident_platform.entrypoints.oncall",
        {
            "DATABASE_URL": platform.database_url,
            "PLATFORM_ADMIN_TOKEN": platform.admin_token,
            "ACK_SIGNING_KEY": platform.ack_signing_key,
            "ONCALL_PUBLIC_URL": platform.oncall.url,
            "ENGINE_INTERVAL_SECONDS": "0.2",
        },
        log_path=tmp_path / "paging.log",
    ).start()
    with webhook_receiver() as (url, received):
        try:
            paging_service.wait_until("/readyz")
            alice = create_user(
                oncall_api, "alice", [{"type": "webhook", "address": f"{url}/alice"}]
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
            incident_id = httpx.post(
                platform.ingestion.url + "/api/v1/alerts",
                json={"service": "checkout", "summary": "Checkout down", "severity": "critical"},
                headers=generic_auth,
            ).json()["incident_id"]
            requests = received.wait_for(1)
            assert len(requests) == 1
            path, body = requests[0]
            assert path == "/alice"
            assert body["incident"]["id"] == incident_id
            assert body["incident"]["severity"] == "critical"
            acked = httpx.get(body["ack_url"])
            assert acked.status_code == 200
            metrics = httpx.get(paging_service.url + "/metrics").text
            assert 'escalation_steps_total{step="1"} 1.0' in metrics
            assert 'notifications_sent_total{channel="webhook",outcome="sent"} 1.0' in metrics
            assert (
                'incident_first_notification_seconds_count{service="checkout",severity="critical"}'
                " 1.0" in metrics
            )
        finally:
            paging_service.stop()
    incident = incidents_api.get(f"/api/v1/incidents/{incident_id}").json()
    assert incident["status"] == "acknowledged"
    kinds = [entry["kind"] for entry in incident["timeline"]]
    assert kinds.index("escalated") < kinds.index("notified") < kinds.index("acknowledged")
