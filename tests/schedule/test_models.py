"""The HTTP models (pydantic): valid bodies round-trip to the domain, bad ones get 422s naming
the field."""

from datetime import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from incident_platform.schedule import CustomRotation, Weekday, WeeklyRotation
from incident_platform.schedule.models import OverrideModel, ScheduleModel

app = FastAPI()


@app.post("/schedules")
def create_schedule(body: ScheduleModel) -> ScheduleModel:
    return ScheduleModel.from_domain(body.to_domain())


@app.post("/overrides")
def create_override(body: OverrideModel) -> OverrideModel:
    return OverrideModel.from_domain(body.to_domain(sequence=1))


client = TestClient(app)


def valid_body() -> dict[str, Any]:
    return {
        "name": "payments",
        "timezone": "Europe/Paris",
        "layers": [
            {
                "name": "weekly",
                "users": ["5f1c6a0e-2b1e-4a55-9d0a-6d9c1b7e8f00", "u2"],
                "start": "2026-01-05T09:00:00+01:00",
                "rotation": {"type": "weekly", "handoff_time": "09:00", "handoff_day": "monday"},
                "restrictions": [{"days": ["mon", "tue"], "start": "22:00", "end": "06:00"}],
            },
            {
                "name": "daily",
                "users": ["u3"],
                "start": "2026-01-05T08:00:00Z",
                "rotation": {"type": "daily", "handoff_time": "02:30"},
            },
            {
                "name": "custom",
                "users": ["u4", "u5"],
                "start": "2026-01-05T08:00:00Z",
                "rotation": {"type": "custom", "shift_hours": 12},
                "restrictions": [],
            },
        ],
    }


def test_a_valid_schedule_round_trips_through_the_models() -> None:
    body = valid_body()

    response = client.post("/schedules", json=body)

    assert response.status_code == 200, response.text
    echoed = response.json()
    body["layers"][1]["restrictions"] = []
    body["layers"][1]["start"] = "2026-01-05T08:00:00Z"
    assert echoed == body
    domain = ScheduleModel.model_validate(body).to_domain()
    assert domain.layers[0].restrictions[0].days == {Weekday.MONDAY, Weekday.TUESDAY}
    assert domain.layers[0].rotation == WeeklyRotation(time(9), Weekday.MONDAY)
    assert domain.layers[2].rotation == CustomRotation(12)


def mutate(path: list[str | int], value: Any) -> dict[str, Any]:
    body = valid_body()
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "loc"),
    [
        (["timezone"], "Europe/Pariss", ["timezone"]),
        (["timezone"], "localtime", ["timezone"]),
        (["timezone"], "../../etc/passwd", ["timezone"]),
        (["layers"], [], ["layers"]),
        (["layers", 0, "users"], [], ["layers", 0, "users"]),
        (["layers", 0, "users", 1], "", ["layers", 0, "users", 1]),
        (["layers", 0, "start"], "2026-01-05T09:00:00", ["layers", 0, "start"]),
        (
            ["layers", 0, "rotation", "handoff_time"],
            "9am",
            ["layers", 0, "rotation", "weekly", "handoff_time"],
        ),
        (
            ["layers", 0, "rotation", "handoff_day"],
            "mon",
            ["layers", 0, "rotation", "weekly", "handoff_day"],
        ),
        (["layers", 0, "rotation", "type"], "hourly", ["layers", 0, "rotation"]),
        (
            ["layers", 0, "restrictions", 0, "days", 1],
            "tuesday",
            ["layers", 0, "restrictions", 0, "days", 1],
        ),
        (["layers", 0, "restrictions", 0, "days"], [], ["layers", 0, "restrictions", 0, "days"]),
        (["layers", 0, "restrictions", 0, "end"], "24:00", ["layers", 0, "restrictions", 0, "end"]),
        (["layers", 1, "name"], "override", ["layers", 1, "name"]),
        (["layers", 1, "name"], "weekly", ["layers"]),
        (
            ["layers", 2, "rotation", "shift_hours"],
            0,
            ["layers", 2, "rotation", "custom", "shift_hours"],
        ),
        (
            ["layers", 2, "rotation", "shift_hours"],
            -3,
            ["layers", 2, "rotation", "custom", "shift_hours"],
        ),
        (
            ["layers", 2, "rotation", "shift_hours"],
            24 * 366,
            ["layers", 2, "rotation", "custom", "shift_hours"],
        ),
        (
            ["layers", 2, "rotation", "handoff_time"],
            "09:00",
            ["layers", 2, "rotation", "custom", "handoff_time"],
        ),
        (
            ["layers", 2, "rotation", "shift_hours"],
            DELETE,
            ["layers", 2, "rotation", "custom", "shift_hours"],
        ),
        (["owner"], "someone", ["owner"]),
    ],
)
def test_bad_schedules_get_422_naming_the_field(
    path: list[str | int], value: Any, loc: list[str | int]
) -> None:
    response = client.post("/schedules", json=mutate(path, value))

    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert ["body", *loc] in locations


def test_override_model() -> None:
    ok = client.post(
        "/overrides",
        json={"user": "u1", "start": "2026-01-05T09:00:00Z", "end": "2026-01-05T11:00:00+01:00"},
    )
    backwards = client.post(
        "/overrides",
        json={"user": "u1", "start": "2026-01-05T09:00:00Z", "end": "2026-01-05T08:00:00Z"},
    )
    naive = client.post(
        "/overrides",
        json={"user": "u1", "start": "2026-01-05T09:00:00", "end": "2026-01-05T10:00:00Z"},
    )

    assert ok.status_code == 200, ok.text
    assert backwards.status_code == 422
    assert [e["loc"] for e in backwards.json()["detail"]] == [["body", "end"]]
    assert "must end after it starts" in backwards.json()["detail"][0]["msg"]
    assert naive.status_code == 422
    assert [e["loc"] for e in naive.json()["detail"]] == [["body", "start"]]


def test_override_order_is_checked_in_absolute_time_across_a_fall_back() -> None:
    # New York's 01:30 after the fall back (EST, 06:30Z) is later than its 01:45 before it
    # (EDT, 05:45Z): an override from the one to the other ends before it starts.
    backwards = client.post(
        "/overrides",
        json={
            "user": "u1",
            "start": "2026-11-01T01:30:00-05:00",
            "end": "2026-11-01T01:45:00-04:00",
        },
    )
    forwards = client.post(
        "/overrides",
        json={
            "user": "u1",
            "start": "2026-11-01T01:45:00-04:00",
            "end": "2026-11-01T01:30:00-05:00",
        },
    )

    assert backwards.status_code == 422
    assert [error["loc"] for error in backwards.json()["detail"]] == [["body", "end"]]
    assert forwards.status_code == 200
