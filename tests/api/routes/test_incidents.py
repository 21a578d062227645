from datetime import datetime

import httpx
import pytest

from support.database import wait_until_feed_final
from support.platform import Platform


def open_incident(
    ingest: httpx.Client, auth: dict[str, str], service: str = "checkout", **extra: str
) -> int:
    response = ingest.post(
        "/api/v1/alerts", json={"service": service, "summary": "down", **extra}, headers=auth
    )
    assert response.status_code == 202
    return int(response.json()["incident_id"])


def test_acknowledge_then_resolve_records_times_and_timeline(
    ingest: httpx.Client, generic_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    incident_id = open_incident(ingest, generic_auth)
    acked = incidents_api.post(f"/api/v1/incidents/{incident_id}/acknowledge")
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    acknowledged = acked.json()
    took = datetime.fromisoformat(acknowledged["acknowledged_at"]) - datetime.fromisoformat(
        acknowledged["created_at"]
    )
    assert acknowledged["time_to_acknowledge_seconds"] == round(took.total_seconds(), 3)
    assert acknowledged["time_to_resolve_seconds"] is None
    resolved = incidents_api.post(f"/api/v1/incidents/{incident_id}/resolve").json()
    assert resolved["status"] == "resolved"
    assert resolved["resolved_at"] >= resolved["acknowledged_at"]
    detail = incidents_api.get(f"/api/v1/incidents/{incident_id}").json()
    assert [e["kind"] for e in detail["timeline"]] == ["created", "acknowledged", "resolved"]
    assert detail["timeline"][1]["actor"] == "admin"
    # Resolving the incident resolves its alerts, so the next firing opens a new incident.
    assert [a["status"] for a in detail["alerts"]] == ["resolved"]
    assert open_incident(ingest, generic_auth) != incident_id


@pytest.mark.parametrize(
    ("steps", "illegal", "current", "repeated"),
    [
        (["resolve"], "acknowledge", "resolved", False),
        (["resolve"], "resolve", "resolved", True),
        (["acknowledge"], "acknowledge", "acknowledged", True),
        ([], "reopen", "triggered", True),
        (["acknowledge"], "reopen", "acknowledged", False),
    ],
)
def test_illegal_transition_is_409_with_the_current_status(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
    steps: list[str],
    illegal: str,
    current: str,
    repeated: bool,
) -> None:
    incident_id = open_incident(ingest, generic_auth)
    for step in steps:
        assert incidents_api.post(f"/api/v1/incidents/{incident_id}/{step}").status_code == 200
    response = incidents_api.post(f"/api/v1/incidents/{incident_id}/{illegal}")
    assert response.status_code == 409
    assert response.json()["detail"]["status"] == current
    # A repeat (the incident already is where the transition leads) says so.
    assert response.json()["detail"]["repeated"] is repeated


def test_unknown_incident_is_404(incidents_api: httpx.Client) -> None:
    assert incidents_api.get("/api/v1/incidents/999999").status_code == 404
    assert incidents_api.post("/api/v1/incidents/999999/acknowledge").status_code == 404
    assert incidents_api.post("/api/v1/incidents/999999/notes", json={"text": "x"}).status_code == (
        404
    )
    assert incidents_api.patch("/api/v1/incidents/999999", json={"title": "x"}).status_code == 404


def test_reopen_brings_back_a_resolved_incident_unless_the_service_moved_on(
    ingest: httpx.Client, generic_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    first = open_incident(ingest, generic_auth, fingerprint="a")
    incidents_api.post(f"/api/v1/incidents/{first}/resolve")
    reopened = incidents_api.post(f"/api/v1/incidents/{first}/reopen")
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "triggered"
    assert reopened.json()["resolved_at"] is None
    incidents_api.post(f"/api/v1/incidents/{first}/resolve")
    second = open_incident(ingest, generic_auth, fingerprint="b")
    conflict = incidents_api.post(f"/api/v1/incidents/{first}/reopen")
    assert conflict.status_code == 409
    assert conflict.json()["detail"]["open_incident_id"] == second


def test_notes_and_patch_land_in_the_timeline(
    ingest: httpx.Client, generic_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    incident_id = open_incident(ingest, generic_auth)
    note = incidents_api.post(
        f"/api/v1/incidents/{incident_id}/notes", json={"text": "rolled back deploy 42"}
    )
    assert note.status_code == 201
    patched = incidents_api.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"title": "Checkout down", "severity": "critical", "assignee": "alice"},
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["title"], body["severity"], body["assignee"]) == (
        "Checkout down",
        "critical",
        "alice",
    )
    timeline = incidents_api.get(f"/api/v1/incidents/{incident_id}").json()["timeline"]
    assert [e["kind"] for e in timeline] == [
        "created",
        "note",
        "title_changed",
        "severity_changed",
        "assigned",
    ]
    assert timeline[1]["message"] == "rolled back deploy 42"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"severity": "apocalyptic"}, "severity"), ({"title": ""}, "title")],
)
def test_bad_patch_is_422_naming_the_field(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
    body: dict[str, str],
    field: str,
) -> None:
    incident_id = open_incident(ingest, generic_auth)
    response = incidents_api.patch(f"/api/v1/incidents/{incident_id}", json=body)
    assert response.status_code == 422
    assert field in [e["loc"][-1] for e in response.json()["detail"]]
    empty_note = incidents_api.post(f"/api/v1/incidents/{incident_id}/notes", json={"text": ""})
    assert empty_note.status_code == 422


def test_list_is_newest_first_filtered_and_keyset_paginated(
    ingest: httpx.Client, generic_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    ids = [open_incident(ingest, generic_auth, service=f"svc-{n}") for n in range(7)]
    incidents_api.post(f"/api/v1/incidents/{ids[0]}/resolve")
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = incidents_api.get("/api/v1/incidents", params=params).json()
        seen += [incident["id"] for incident in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)
    open_only = incidents_api.get("/api/v1/incidents", params={"status": "triggered"}).json()
    assert ids[0] not in [i["id"] for i in open_only["data"]]
    assert open_only["count"] == 6
    by_service = incidents_api.get("/api/v1/incidents", params={"service": "svc-3"}).json()
    assert [i["id"] for i in by_service["data"]] == [ids[3]]


def test_change_feed_returns_changes_after_a_cursor_oldest_first(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
    platform: Platform,
) -> None:
    first = open_incident(ingest, generic_auth, service="a")
    second = open_incident(ingest, generic_auth, service="b")
    wait_until_feed_final(platform.database_url)
    feed = incidents_api.get("/api/v1/incidents", params={"changed_after": 0}).json()["data"]
    assert [i["id"] for i in feed] == [first, second]
    cursor = feed[-1]["change_seq"]
    incidents_api.post(f"/api/v1/incidents/{first}/acknowledge")
    wait_until_feed_final(platform.database_url)
    changes = incidents_api.get("/api/v1/incidents", params={"changed_after": cursor}).json()
    assert [(i["id"], i["status"]) for i in changes["data"]] == [(first, "acknowledged")]
