"""The application factory: what every service answers for database faults and bad input,
whatever its routes (the routes here stand in for any service's)."""

import logging

import psycopg
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError

from incident_platform.api.app import create_app
from incident_platform.db import DatabaseUnavailable
from incident_platform.settings import get_settings

router = APIRouter()


class Thing(BaseModel):
    name: str
    size: int


@router.post("/things")
async def create_thing(thing: Thing) -> Thing:
    return thing


@router.get("/unavailable")
async def unavailable() -> None:
    raise DatabaseUnavailable("alert batch kept conflicting after 8 attempts")


@router.get("/driver-outage")
async def driver_outage() -> None:
    raise psycopg.OperationalError("connection refused")


@router.get("/wrapped-outage")
async def wrapped_outage() -> None:
    raise OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed"))


@router.get("/database-bug")
async def database_bug() -> None:
    raise DBAPIError("SELECT nonsense", {}, psycopg.errors.UndefinedColumn("no such column"))


@pytest.fixture
def client() -> TestClient:
    # No `with`: the lifespan (waiting for the database) is not what is tested here.
    app = create_app(title="test", routers=[router])
    return TestClient(app, raise_server_exceptions=False)


def test_a_database_fault_answers_503_with_retry_after_and_logs_its_reason(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="incident_platform.api.app"):
        response = client.get("/unavailable", params={"token": "secret-in-a-query"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(get_settings().retry_after_seconds)
    assert response.json() == {
        "detail": "database unavailable, retry later: alert batch kept conflicting after 8 attempts"
    }
    assert caplog.messages == [
        "GET /unavailable answered 503: alert batch kept conflicting after 8 attempts"
    ]
    assert "secret-in-a-query" not in caplog.text


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/driver-outage", "OperationalError"), ("/wrapped-outage", "OperationalError")],
)
def test_driver_outages_answer_503_naming_only_the_error_type(
    client: TestClient, caplog: pytest.LogCaptureFixture, path: str, reason: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="incident_platform.api.app"):
        response = client.get(path)
    assert response.status_code == 503
    assert response.json()["detail"] == f"database unavailable, retry later: {reason}"
    assert "Retry-After" in response.headers
    assert caplog.messages == [f"GET {path} answered 503: {reason}"]


def test_a_database_error_that_is_no_outage_is_a_500_without_details(
    client: TestClient,
) -> None:
    response = client.get("/database-bug")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "Retry-After" not in response.headers


def test_invalid_input_is_a_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/things", json={"name": "x", "size": "big"})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "size"]


def test_the_health_routes_come_with_every_app(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
