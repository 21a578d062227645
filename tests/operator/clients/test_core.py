"""How HTTP answers become kopf errors: PermanentError for refusals, TemporaryError (with
Retry-After or backoff) for outages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import kopf

from incident_operator.clients.core import (
    IllegalTransition,
    PlatformRejected,
    PlatformUnavailable,
    backoff_delay,
    error_for,
    retry_after_seconds,
)

NOW = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)


def response(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("POST", "http://platform/api/v1/alerts")
    return httpx.Response(status, json=body, headers=headers, request=request)


def mapped(answer: httpx.Response, attempt: int = 0) -> Exception | None:
    return error_for(answer, attempt=attempt, base_delay=2, max_delay=60)


def test_success_is_no_error() -> None:
    assert mapped(response(202, {"action": "created"})) is None


def test_unavailable_is_temporary_and_honours_retry_after() -> None:
    error = mapped(response(503, {"detail": "database unavailable"}, {"Retry-After": "7"}))
    assert isinstance(error, PlatformUnavailable)
    assert isinstance(error, kopf.TemporaryError)
    assert error.delay == 7
    assert "database unavailable" in str(error)
    backing_off = mapped(response(500, {"detail": "internal error"}), attempt=3)
    assert isinstance(backing_off, PlatformUnavailable)
    assert backing_off.delay == 16
    assert isinstance(mapped(response(429, {})), PlatformUnavailable)


def test_validation_errors_are_permanent_and_name_the_field() -> None:
    detail = [{"loc": ["body", "summary"], "msg": "Value error, must not be blank", "type": "x"}]
    error = mapped(response(422, {"detail": detail}))
    assert isinstance(error, PlatformRejected)
    assert isinstance(error, kopf.PermanentError)
    assert error.message == "summary: Value error, must not be blank"
    assert error.status_code == 422


def test_an_illegal_transition_names_the_current_state() -> None:
    detail = {"message": "cannot acknowledge an incident that is resolved", "status": "resolved"}
    error = mapped(response(409, {"detail": detail}))
    assert isinstance(error, IllegalTransition)
    assert error.current == "resolved"
    assert error.message == "cannot acknowledge an incident that is resolved"
    assert not error.repeated


def test_a_repeated_transition_says_so() -> None:
    detail = {
        "message": "cannot acknowledge an incident that is acknowledged",
        "status": "acknowledged",
        "repeated": True,
    }
    error = mapped(response(409, {"detail": detail}))
    assert isinstance(error, IllegalTransition)
    assert error.repeated


def test_other_client_errors_are_permanent() -> None:
    for status in (401, 403, 404):
        error = mapped(response(status, {"detail": "nope"}))
        assert isinstance(error, PlatformRejected)
        assert not isinstance(error, IllegalTransition)
        assert error.message == "nope"


def test_retry_after_and_backoff() -> None:
    assert retry_after_seconds("3") == 3
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = "Thu, 26 Nov 2026 16:30:30 GMT"
    assert retry_after_seconds(later, now=NOW) == 30
    assert retry_after_seconds(later, now=NOW + timedelta(hours=1)) == 0
    assert [backoff_delay(n, base=1, cap=10) for n in range(6)] == [1, 2, 4, 8, 10, 10]
