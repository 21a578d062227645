"""What ``make run`` seeds so the platform pages someone out of the box.

Two users on a daily rotation, an escalation policy (schedule first, then the
backup after five minutes) routing the ``checkout`` service, and a loopback
webhook receiver that prints every page it gets.
"""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class _PrintingReceiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            event = json.loads(body)
            incident = event.get("incident", {})
            line = (
                f"[page] {self.path.strip('/')}: #{incident.get('id')} {incident.get('title')}"
                f" ({incident.get('severity')}) ack: {event.get('ack_url')}"
            )
        except (ValueError, AttributeError):
            line = f"[page] {self.path}: {body[:200]!r}"
        print(line, flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def start_demo_receiver(host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), _PrintingReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def seed_demo_oncall(oncall_url: str, admin_token: str, receiver_url: str) -> None:
    """Creates the demo once; a database that already has users is left alone."""
    auth = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=oncall_url, headers=auth, timeout=10) as client:
        if client.get("/api/v1/users").json()["count"] > 0:
            return
        ids = []
        for name in ("alice", "bob"):
            response = client.post(
                "/api/v1/users",
                json={
                    "name": name,
                    "email": f"{name}@example.com",
                    "timezone": "Europe/Paris",
                    "contact_methods": [{"type": "webhook", "address": f"{receiver_url}/{name}"}],
                },
            )
            response.raise_for_status()
            ids.append(response.json()["id"])
        start = (datetime.now(UTC) - timedelta(days=7)).replace(microsecond=0).isoformat()
        schedule = client.post(
            "/api/v1/schedules",
            json={
                "name": "primary",
                "timezone": "Europe/Paris",
                "layers": [
                    {
                        "name": "daily",
                        "users": ids,
                        "start": start,
                        "rotation": {"type": "daily", "handoff_time": "09:00"},
                    }
                ],
            },
        )
        schedule.raise_for_status()
        policy = client.post(
            "/api/v1/escalation-policies",
            json={
                "name": "default",
                "steps": [
                    {
                        "delay_minutes": 0,
                        "targets": [{"type": "schedule", "id": schedule.json()["id"]}],
                    },
                    {"delay_minutes": 5, "targets": [{"type": "user", "id": ids[1]}]},
                ],
                "repeat": 1,
            },
        )
        policy.raise_for_status()
        client.put(
            "/api/v1/services/checkout", json={"escalation_policy_id": policy.json()["id"]}
        ).raise_for_status()
