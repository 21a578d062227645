"""POST /api/v1/escalation-policies body: accepted shapes and 422s naming the field."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from incident_platform.escalation import (
    EscalationPolicy,
    EscalationStep,
    ScheduleTarget,
    UserTarget,
    WebhookTarget,
    validate_policy,
)
from incident_platform.escalation.models import EscalationPolicyModel

app = FastAPI()


@app.post("/api/v1/escalation-policies")
def create_policy(body: EscalationPolicyModel) -> EscalationPolicyModel:
    return EscalationPolicyModel.from_domain(body.to_domain())


client = TestClient(app)


def valid_body() -> dict[str, Any]:
    return {
        "name": "payments",
        "steps": [
            {"delay_minutes": 0, "targets": [{"type": "schedule", "id": "sched-1"}]},
            {
                "delay_minutes": 15,
                "targets": [
                    {"type": "user", "id": "5f1c6a0e-2b1e-4a55-9d0a-6d9c1b7e8f00"},
                    {"type": "webhook", "url": "https://hooks.example.com/page?team=a"},
                ],
            },
        ],
        "repeat": 2,
    }


def post(body: dict[str, Any]) -> Any:
    return client.post("/api/v1/escalation-policies", json=body)


def test_valid_policy_round_trips_to_the_domain() -> None:
    response = post(valid_body())

    assert response.status_code == 200, response.text
    assert response.json() == valid_body()
    domain = EscalationPolicyModel.model_validate(valid_body()).to_domain()
    assert domain == EscalationPolicy(
        "payments",
        (
            EscalationStep(0, (ScheduleTarget("sched-1"),)),
            EscalationStep(
                15,
                (
                    UserTarget("5f1c6a0e-2b1e-4a55-9d0a-6d9c1b7e8f00"),
                    WebhookTarget("https://hooks.example.com/page?team=a"),
                ),
            ),
        ),
        repeat=2,
    )
    validate_policy(domain)


def test_repeat_defaults_to_zero() -> None:
    body = valid_body()
    del body["repeat"]

    assert EscalationPolicyModel.model_validate(body).repeat == 0


def with_change(change: str, value: Any) -> dict[str, Any]:
    body = valid_body()
    if change == "delay":
        body["steps"][1]["delay_minutes"] = value
    elif change == "url":
        body["steps"][1]["targets"][1]["url"] = value
    elif change == "targets":
        body["steps"][0]["targets"] = value
    elif change == "steps":
        body["steps"] = value
    elif change == "repeat":
        body["repeat"] = value
    elif change == "target":
        body["steps"][0]["targets"][0] = value
    elif change == "first_delay_zero_and_last":
        body["steps"][1]["delay_minutes"] = 0
        body["repeat"] = value
    return body


@pytest.mark.parametrize(
    ("change", "value", "loc"),
    [
        ("delay", -1, ["steps", 1, "delay_minutes"]),
        ("delay", "soon", ["steps", 1, "delay_minutes"]),
        ("url", "ftp://hooks.example.com/x", ["steps", 1, "targets", 1, "webhook", "url"]),
        ("url", "not a url", ["steps", 1, "targets", 1, "webhook", "url"]),
        ("url", "/relative/path", ["steps", 1, "targets", 1, "webhook", "url"]),
        ("targets", [], ["steps", 0, "targets"]),
        ("steps", [], ["steps"]),
        ("repeat", -1, ["repeat"]),
        ("repeat", 11, ["repeat"]),
        ("first_delay_zero_and_last", 1, ["repeat"]),
        ("target", {"type": "pager", "id": "x"}, ["steps", 0, "targets", 0]),
        ("target", {"type": "user"}, ["steps", 0, "targets", 0, "user", "id"]),
        ("target", {"type": "user", "id": ""}, ["steps", 0, "targets", 0, "user", "id"]),
        ("target", {"type": "webhook", "id": "x"}, ["steps", 0, "targets", 0, "webhook", "url"]),
    ],
)
def test_bad_policies_get_422_naming_the_field(change: str, value: Any, loc: list[Any]) -> None:
    response = post(with_change(change, value))

    assert response.status_code == 422
    assert ["body", *loc] in [error["loc"] for error in response.json()["detail"]]


def test_the_missing_target_message_is_readable() -> None:
    response = post(with_change("targets", []))

    (error,) = response.json()["detail"]
    assert "a step needs at least one target" in error["msg"]
