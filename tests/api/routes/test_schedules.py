from datetime import UTC, datetime, timedelta

import httpx
import pytest

from support.oncall import create_policy, create_schedule, create_user, daily_schedule
from support.platform import Platform


@pytest.fixture
def people(oncall_api: httpx.Client) -> list[str]:
    return [create_user(oncall_api, name) for name in ("alice", "bob", "carol")]


def test_daily_rotation_hands_off_at_local_time_across_dst(
    oncall_api: httpx.Client, people: list[str]
) -> None:
    schedule = create_schedule(
        oncall_api, daily_schedule("paris", people[:2], start="2026-03-27T09:00:00+01:00")
    )
    # 2026-03-29: Paris springs forward; the shift from the 28th to the 29th lasts 23 h.
    oncall = oncall_api.get(
        f"/api/v1/schedules/{schedule}/oncall", params={"at": "2026-03-28T12:00:00+01:00"}
    ).json()
    assert oncall["user"] == {"id": people[1], "name": "bob"}
    assert oncall["layer"] == "primary"
    start = datetime.fromisoformat(oncall["shift_start"])
    end = datetime.fromisoformat(oncall["shift_end"])
    assert start == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert end == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert end - start == timedelta(hours=23)
    shifts = oncall_api.get(
        f"/api/v1/schedules/{schedule}/shifts",
        params={"from": "2026-03-27T09:00:00+01:00", "to": "2026-03-31T09:00:00+02:00"},
    ).json()
    assert [s["user"]["name"] for s in shifts["data"]] == ["alice", "bob", "alice", "bob"]
    assert all(
        datetime.fromisoformat(s["start"]).astimezone().hour in (7, 8) for s in shifts["data"]
    )


def test_override_takes_over_and_can_be_removed(
    oncall_api: httpx.Client, people: list[str]
) -> None:
    schedule = create_schedule(oncall_api, daily_schedule("primary", people[:2]))
    at = "2026-06-10T12:00:00+02:00"
    before = oncall_api.get(f"/api/v1/schedules/{schedule}/oncall", params={"at": at}).json()
    created = oncall_api.post(
        f"/api/v1/schedules/{schedule}/overrides",
        json={
            "user": people[2],
            "start": "2026-06-10T10:00:00+02:00",
            "end": "2026-06-10T14:00:00+02:00",
        },
    )
    assert created.status_code == 201
    during = oncall_api.get(f"/api/v1/schedules/{schedule}/oncall", params={"at": at}).json()
    assert during["user"]["name"] == "carol"
    assert during["layer"] == "override"
    assert datetime.fromisoformat(during["shift_end"]) == datetime(2026, 6, 10, 12, tzinfo=UTC)
    override_id = created.json()["id"]
    deleted = oncall_api.delete(f"/api/v1/schedules/{schedule}/overrides/{override_id}")
    assert deleted.status_code == 204
    after = oncall_api.get(f"/api/v1/schedules/{schedule}/oncall", params={"at": at}).json()
    assert after == before


def test_nobody_on_call_before_the_start(oncall_api: httpx.Client, people: list[str]) -> None:
    schedule = create_schedule(oncall_api, daily_schedule("later", people[:1]))
    response = oncall_api.get(
        f"/api/v1/schedules/{schedule}/oncall", params={"at": "2025-01-01T00:00:00Z"}
    )
    assert response.json() == {"user": None, "layer": None, "shift_start": None, "shift_end": None}


def test_ics_export(oncall_api: httpx.Client, people: list[str], platform: Platform) -> None:
    start = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0).isoformat()
    schedule = create_schedule(oncall_api, daily_schedule("primary", people[:2], start=start))
    response = oncall_api.get(f"/api/v1/schedules/{schedule}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    body = response.text
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert "SUMMARY:On call: alice" in body
    assert body.count("BEGIN:VEVENT") >= 180
    token = oncall_api.headers["Authorization"].removeprefix("Bearer ")
    feed = f"{platform.oncall.url}/api/v1/schedules/{schedule}.ics"
    assert httpx.get(feed, params={"token": token}).status_code == 200
    assert httpx.get(feed).status_code == 401
    assert httpx.get(feed, params={"token": "wrong"}).status_code == 401


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"timezone": "Europe/Atlantis"}, ["body", "timezone"]),
        ({"layers": []}, ["body", "layers"]),
        (
            {
                "layers": [
                    {
                        "name": "x",
                        "users": [],
                        "start": "2026-01-01T00:00:00Z",
                        "rotation": {"type": "daily", "handoff_time": "09:00"},
                    }
                ]
            },
            ["body", "layers", 0, "users"],
        ),
        (
            {
                "layers": [
                    {
                        "name": "x",
                        "users": ["u"],
                        "start": "2026-01-01T00:00:00",
                        "rotation": {"type": "daily", "handoff_time": "09:00"},
                    }
                ]
            },
            ["body", "layers", 0, "start"],
        ),
        (
            {
                "layers": [
                    {
                        "name": "x",
                        "users": ["u"],
                        "start": "2026-01-01T00:00:00Z",
                        "rotation": {"type": "daily", "handoff_time": "25:00"},
                    }
                ]
            },
            ["body", "layers", 0, "rotation", "daily", "handoff_time"],
        ),
    ],
)
def test_bad_schedule_is_422_naming_the_field(
    oncall_api: httpx.Client, change: dict[str, object], location: list[object]
) -> None:
    body = {"name": "bad", "timezone": "UTC", **change}
    response = oncall_api.post("/api/v1/schedules", json=body)
    assert response.status_code == 422, response.text
    assert location in [error["loc"] for error in response.json()["detail"]], response.json()
    assert oncall_api.get("/api/v1/schedules").json()["count"] == 0


def test_unknown_layer_user_is_422_naming_it(oncall_api: httpx.Client, people: list[str]) -> None:
    body = daily_schedule("x", [people[0], "4f1c6a33-0000-4000-8000-000000000000"])
    response = oncall_api.post("/api/v1/schedules", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "layers", 0, "users", 1]


def test_override_ending_before_it_starts_is_422(
    oncall_api: httpx.Client, people: list[str]
) -> None:
    schedule = create_schedule(oncall_api, daily_schedule("primary", people[:1]))
    response = oncall_api.post(
        f"/api/v1/schedules/{schedule}/overrides",
        json={"user": people[1], "start": "2026-06-10T14:00:00Z", "end": "2026-06-10T10:00:00Z"},
    )
    assert response.status_code == 422
    assert ["body", "end"] in [error["loc"] for error in response.json()["detail"]]
    assert oncall_api.get(f"/api/v1/schedules/{schedule}/overrides").json()["count"] == 0


def test_schedule_used_by_a_policy_cannot_be_deleted(
    oncall_api: httpx.Client, people: list[str]
) -> None:
    schedule = create_schedule(oncall_api, daily_schedule("primary", people[:1]))
    create_policy(
        oncall_api,
        "checkout-pager",
        [{"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule}]}],
    )
    response = oncall_api.delete(f"/api/v1/schedules/{schedule}")
    assert response.status_code == 409
    assert "checkout-pager" in response.json()["detail"]["message"]
    assert oncall_api.get(f"/api/v1/schedules/{schedule}").status_code == 200


def test_shift_range_is_bounded(oncall_api: httpx.Client, people: list[str]) -> None:
    schedule = create_schedule(oncall_api, daily_schedule("primary", people[:1]))
    response = oncall_api.get(
        f"/api/v1/schedules/{schedule}/shifts",
        params={"from": "2026-01-01T00:00:00Z", "to": "2028-01-01T00:00:00Z"},
    )
    assert response.status_code == 422
