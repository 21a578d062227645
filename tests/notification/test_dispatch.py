"""Sending one claimed notification: each channel reaches its real receiver, and every way
it cannot be sent is a result with its reason, never an exception."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from incident_platform.notification.dispatch import scrub, send
from incident_platform.notification.messages import IncidentSummary
from incident_platform.notification.outbox import ClaimedNotification
from incident_platform.notification.rules import Outcome, Reason
from incident_platform.settings import Settings
from notification.receivers import HttpReceiver, SmtpReceiver

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
INCIDENT = IncidentSummary(
    7, "checkout 5xx", "checkout", "critical", "triggered", NOW - timedelta(minutes=3)
)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def claimed(channel: str, address: str, **data: Any) -> ClaimedNotification:
    return ClaimedNotification(
        id=41,
        incident_id=INCIDENT.id,
        user_id=None,
        channel=channel,
        address=address,
        event="triggered",
        step=0,
        attempts=0,
        data=data,
        lease_until=NOW + timedelta(minutes=1),
    )


def clock() -> datetime:
    return NOW


def test_a_webhook_is_posted_with_the_incident_and_the_repeat(
    settings: Settings, receiver: HttpReceiver, client: httpx.Client
) -> None:
    url = receiver.answer("/hook", 200)

    result = send(settings, claimed("webhook", url, repeat=2), INCIDENT, client, clock)

    assert result.outcome is Outcome.SENT, result
    (request,) = receiver.to("/hook")
    assert request.body["incident"]["id"] == INCIDENT.id
    assert request.body["repeat"] == 2


def test_a_slack_message_goes_to_its_hook(
    settings: Settings, receiver: HttpReceiver, client: httpx.Client
) -> None:
    url = receiver.answer("/services/T/B/x", 200)

    result = send(settings, claimed("slack", url), INCIDENT, client, clock)

    assert result.outcome is Outcome.SENT, result
    (request,) = receiver.to("/services/T/B/x")
    assert "checkout 5xx" in str(request.body)


def test_an_email_reaches_the_smtp_server(
    settings: Settings, smtp: SmtpReceiver, client: httpx.Client
) -> None:
    result = send(settings, claimed("email", "oncall@example.test"), INCIDENT, client, clock)

    assert result.outcome is Outcome.SENT, result
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["oncall@example.test"]
    assert mail.mail_from == "pager@example.test"
    assert "checkout 5xx" in str(mail.message["Subject"])


def test_an_unusable_email_address_fails_without_a_retry(
    settings: Settings, smtp: SmtpReceiver, client: httpx.Client
) -> None:
    result = send(
        settings, claimed("email", "oncall@example.test\nBcc: x@y"), INCIDENT, client, clock
    )

    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.INVALID_ADDRESS)
    assert result.detail.startswith("unusable e-mail address: ")
    assert smtp.messages == []


def test_a_vanished_incident_and_an_unknown_channel_fail_with_their_reasons(
    settings: Settings, client: httpx.Client
) -> None:
    gone = send(settings, claimed("webhook", "http://127.0.0.1:1/"), None, client, clock)
    unknown = send(settings, claimed("pigeon", "roof"), INCIDENT, client, clock)

    assert (gone.outcome, gone.reason) == (Outcome.FAILED, Reason.INCIDENT_GONE)
    assert (unknown.outcome, unknown.reason) == (Outcome.FAILED, Reason.UNKNOWN_CHANNEL)
    assert unknown.detail == "unknown channel 'pigeon'"


def test_a_surprise_is_logged_and_retried_instead_of_raised(
    settings: Settings, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_clock() -> datetime:
        raise RuntimeError("clock")

    result = send(
        settings, claimed("webhook", "http://127.0.0.1:1/"), INCIDENT, client, broken_clock
    )

    assert (result.outcome, result.reason) == (Outcome.RETRY, Reason.INTERNAL)
    assert result.detail == "internal error (RuntimeError)"
    (record,) = [r for r in caplog.records if r.name == "incident_platform.notification.dispatch"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None


def test_a_repeat_that_is_not_a_number_is_left_out(
    settings: Settings, receiver: HttpReceiver, client: httpx.Client
) -> None:
    url = receiver.answer("/hook", 200)
    for repeat in (True, "2", None):
        assert (
            send(settings, claimed("webhook", url, repeat=repeat), INCIDENT, client, clock).outcome
            is Outcome.SENT
        )

    assert [request.body.get("repeat") for request in receiver.to("/hook")] == [None] * 3


def test_scrub_hides_a_webhook_address_but_not_an_email_and_bounds_the_text() -> None:
    hook = claimed(
        "webhook", "https://hooks.example.test/services/secret-token-0123456789abcdef?k=v"
    )
    mail = claimed("email", "oncall@example.test")

    hidden = scrub(f"POST {hook.address} refused", hook)

    assert hook.address not in hidden
    assert hidden == f"POST {hook.shown_address} refused"
    assert scrub("to oncall@example.test: 550", mail) == "to oncall@example.test: 550"
    assert len(scrub("x" * 5000, hook)) == 1000
