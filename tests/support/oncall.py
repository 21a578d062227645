"""Setting up people, schedules and policies through the on-call API, as an admin would."""

from typing import Any

import httpx


def create_user(
    api: httpx.Client, name: str, contact_methods: list[dict[str, str]] | None = None
) -> str:
    response = api.post(
        "/api/v1/users",
        json={
            "name": name,
            "email": f"{name}@example.com",
            "timezone": "Europe/Paris",
            "contact_methods": contact_methods or [],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def daily_schedule(
    name: str, users: list[str], start: str = "2026-01-05T09:00:00+01:00", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "timezone": "Europe/Paris",
        "layers": [
            {
                "name": "primary",
                "users": users,
                "start": start,
                "rotation": {"type": "daily", "handoff_time": "09:00"},
                **extra,
            }
        ],
    }


def create_schedule(api: httpx.Client, body: dict[str, Any]) -> str:
    response = api.post("/api/v1/schedules", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def create_policy(
    api: httpx.Client, name: str, steps: list[dict[str, Any]], repeat: int = 0
) -> str:
    response = api.post(
        "/api/v1/escalation-policies", json={"name": name, "steps": steps, "repeat": repeat}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def route(api: httpx.Client, service: str, policy_id: str) -> None:
    response = api.put(f"/api/v1/services/{service}", json={"escalation_policy_id": policy_id})
    assert response.status_code == 200, response.text
