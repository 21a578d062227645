"""Input the database cannot hold or the rules cannot compute with: a 4xx naming the field.

What schemathesis found on these services, pinned down: NUL characters and lone
surrogates in JSON strings, keys and query parameters, ids beyond ``bigint``, instants
far outside any schedule, unbounded range queries. Each answer is 422 in FastAPI's
shape (400 in PagerDuty's on ``/v2/enqueue``) and nothing is written.
"""

from typing import Any

import httpx
import pytest

from support.database import connect
from support.oncall import create_schedule, create_user, daily_schedule
from support.platform import Platform, create_integration


def raw_json(text: str) -> dict[str, Any]:
    """Keyword arguments sending ``text`` as the body: httpx cannot encode a lone surrogate,
    a sender's JSON encoder can (``"\\ud800"`` is valid JSON text)."""
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


def count(platform: Platform, table: str) -> int:
    with connect(platform.database_url) as connection:
        row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(str(row[0]))


def locations(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert all({"loc", "msg", "type"} <= set(error) for error in detail)
    return [error["loc"] for error in detail]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ('{"service": "a\\u0000", "summary": "s"}', ["body", "service"]),
        ('{"service": "a", "summary": "s\\ud800"}', ["body", "summary"]),
        ('{"service": "a", "summary": "s", "labels": {"k\\u0000": "v"}}', ["body", "labels"]),
        (
            '{"service": "a", "summary": "s", "annotations": {"k": "\\udfff"}}',
            ["body", "annotations"],
        ),
        (
            '{"service": "a", "summary": "s", "starts_at": "0001-01-01T00:00:00Z"}',
            ["body", "starts_at"],
        ),
        (
            '{"service": "a", "summary": "s", "ends_at": "9999-12-31T23:59:59Z"}',
            ["body", "ends_at"],
        ),
    ],
)
def test_unstorable_alerts_are_422_naming_the_field(
    platform: Platform,
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    body: str,
    location: list[Any],
) -> None:
    response = ingest.post(
        "/api/v1/alerts",
        content=body.encode(),
        headers={**generic_auth, "Content-Type": "application/json"},
    )
    assert location in locations(response)
    # The refused text is echoed back, spelled out so the answer is valid UTF-8.
    response.content.decode("utf-8")
    assert count(platform, "alerts") == 0


def test_pagerduty_refuses_them_in_its_own_shape(platform: Platform, ingest: httpx.Client) -> None:
    key = create_integration(platform, "pagerduty")
    event = (
        '{"routing_key": "KEY", "event_action": "trigger", "payload": {"summary": "disk\\u0000",'
        ' "source": "db", "severity": "info", "custom_details": {"x": ["\\ud800"]}}}'
    ).replace("KEY", key)
    response = ingest.post("/v2/enqueue", **raw_json(event))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(e.startswith("payload.summary: ") and "NUL character" in e for e in errors)
    assert any(e.startswith("payload.custom_details") and "lone surrogate" in e for e in errors)
    assert count(platform, "alerts") == 0


def test_names_emails_notes_and_urls_are_checked_too(
    platform: Platform, oncall_api: httpx.Client, incidents_api: httpx.Client
) -> None:
    user = '{"name": "Al\\u0000ice", "email": "alice@example.com"}'
    assert ["body", "name"] in locations(oncall_api.post("/api/v1/users", **raw_json(user)))
    contact = (
        '{"name": "Bob", "email": "bob@example.com",'
        ' "contact_methods": [{"type": "webhook", "address": "http://x/\\ud800"}]}'
    )
    assert ["body", "contact_methods", 0, "address"] in locations(
        oncall_api.post("/api/v1/users", **raw_json(contact))
    )
    token = '{"name": "bot\\u0000", "role": "viewer"}'
    assert ["body", "name"] in locations(incidents_api.post("/api/v1/tokens", **raw_json(token)))
    assert count(platform, "users") == 0
    assert count(platform, "api_tokens") == 0


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/api/v1/incidents/9223372036854775808", ["path", "incident_id"]),
        ("/api/v1/incidents/0", ["path", "incident_id"]),
        ("/api/v1/incidents?changed_after=9223372036854775808", ["query", "changed_after"]),
        ("/api/v1/incidents?service=a%00b", ["query", "service"]),
        ("/api/v1/incidents?cursor=aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5", ["query", "cursor"]),
        ("/api/v1/stats?since=0001-01-01T00:00:00Z", ["query", "since"]),
        ("/api/v1/stats?since=2000-01-01T00:00:00Z", ["query", "since"]),
    ],
)
def test_out_of_range_queries_on_incidents_are_422(
    incidents_api: httpx.Client, path: str, location: list[Any]
) -> None:
    assert location in locations(incidents_api.get(path))


def test_out_of_range_queries_on_alerts_are_422(platform: Platform, ingest: httpx.Client) -> None:
    response = ingest.get("/api/v1/alerts?service=%00", headers=platform.admin())
    assert ["query", "service"] in locations(response)


def test_schedules_refuse_instants_the_rules_cannot_compute_with(
    platform: Platform, oncall_api: httpx.Client
) -> None:
    alice = create_user(oncall_api, "alice")
    too_early = daily_schedule("primary", [alice], start="0001-01-01T09:00:00+01:00")
    assert ["body", "layers", 0, "start"] in locations(
        oncall_api.post("/api/v1/schedules", json=too_early)
    )
    schedule = create_schedule(oncall_api, daily_schedule("primary", [alice]))
    override = {"user": alice, "start": "0001-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    assert ["body", "start"] in locations(
        oncall_api.post(f"/api/v1/schedules/{schedule}/overrides", json=override)
    )
    assert ["query", "at"] in locations(
        oncall_api.get(
            f"/api/v1/schedules/{schedule}/oncall", params={"at": "3000-01-01T00:00:00Z"}
        )
    )
    shifts = {"from": "2026-01-01T00:00:00Z", "to": "2200-01-01T00:00:01Z"}
    assert ["query", "to"] in locations(
        oncall_api.get(f"/api/v1/schedules/{schedule}/shifts", params=shifts)
    )
    assert ["path", "override_id"] in locations(
        oncall_api.delete(f"/api/v1/schedules/{schedule}/overrides/99999999999999999999")
    )
    assert ["path", "service"] in locations(oncall_api.get("/api/v1/services/a%00b"))
    assert count(platform, "schedule_overrides") == 0


def test_a_webhook_url_that_would_not_read_back_is_refused(oncall_api: httpx.Client) -> None:
    url = "https://hooks.example.com/" + "a" * 2100
    policy = {
        "name": "p",
        "steps": [{"delay_minutes": 0, "targets": [{"type": "webhook", "url": url}]}],
    }
    assert ["body", "steps", 0, "targets", 0, "webhook", "url"] in locations(
        oncall_api.post("/api/v1/escalation-policies", json=policy)
    )
    near_limit = "https://hooks.example.com/" + "a" * 2000
    policy["steps"][0]["targets"][0]["url"] = near_limit  # type: ignore[index]
    created = oncall_api.post("/api/v1/escalation-policies", json=policy)
    assert created.status_code == 201, created.text
    again = oncall_api.get(f"/api/v1/escalation-policies/{created.json()['id']}")
    assert again.status_code == 200
