"""Senders against real loopback receivers: what counts as sent, retryable or permanent."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from incident_platform.notification.messages import (
    IncidentSummary,
    email_message,
    message_context,
)
from incident_platform.notification.rules import Outcome
from incident_platform.notification.senders import (
    display_address,
    make_http_client,
    post_json,
    send_email,
)
from incident_platform.settings import Settings
from notification.receivers import HttpReceiver, MakeSettings, SmtpReceiver, free_port

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with make_http_client(settings) as http:
        yield http


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SENT),
        (202, Outcome.SENT),
        (204, Outcome.SENT),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (429, Outcome.RETRY),
        (408, Outcome.RETRY),
        (400, Outcome.FAILED),
        (401, Outcome.FAILED),
        (403, Outcome.FAILED),
        (404, Outcome.FAILED),
        (410, Outcome.FAILED),
        (301, Outcome.FAILED),
    ],
)
def test_http_status_classes(
    receiver: HttpReceiver, client: httpx.Client, status: int, outcome: Outcome
) -> None:
    url = receiver.answer("/hook", status)
    result = post_json(client, url, {"hello": "world"})
    assert result.outcome is outcome
    assert result.detail.startswith(f"HTTP {status}")
    (request,) = receiver.to("/hook")
    assert request.json == {"hello": "world"}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("incident-platform-notifier")


def test_retry_after_is_reported(receiver: HttpReceiver, client: httpx.Client) -> None:
    url = receiver.answer("/busy", 429, Retry_After="30")
    result = post_json(client, url, {})
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 30.0)


def test_connection_refused_is_retryable(client: httpx.Client) -> None:
    result = post_json(client, f"http://127.0.0.1:{free_port()}/hook", {})
    assert result.outcome is Outcome.RETRY
    assert "connection error" in result.detail


def test_timeout_is_retryable(receiver: HttpReceiver, make_settings: MakeSettings) -> None:
    url = receiver.answer("/hang", 200, hang_seconds=30)
    with make_http_client(make_settings(notification_timeout_seconds=0.2)) as http:
        result = post_json(http, url, {})
    assert result.outcome is Outcome.RETRY
    assert result.detail.startswith("timeout")
    receiver.release.set()


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://127.0.0.1/x", "file:///etc/passwd", "http://", "/relative"]
)
def test_unusable_urls_fail_permanently(client: httpx.Client, url: str) -> None:
    result = post_json(client, url, {})
    assert result.outcome is Outcome.FAILED
    assert "URL" in result.detail


@pytest.mark.parametrize(
    ("channel", "address", "shown"),
    [
        (
            "webhook",
            "https://user:pw@hooks.example.test:8443/a/b?token=s3cret#x",
            "https://hooks.example.test:8443/a/b",
        ),
        (
            "webhook",
            "https://discord.test/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUv",
            "https://discord.test/api/webhooks/…/…",
        ),
        ("webhook", "http://10.0.0.1/hooks/incident-sink", "http://10.0.0.1/hooks/incident-sink"),
        ("webhook", "http://10.0.0.1", "http://10.0.0.1/"),
        ("slack", "https://hooks.slack.com/services/T0/B0/s3cret", "https://hooks.slack.com/…"),
        ("email", "alice@example.test", "alice@example.test"),
        ("webhook", "no url at all", "(invalid URL)"),
    ],
)
def test_display_address_hides_credentials(channel: str, address: str, shown: str) -> None:
    assert display_address(channel, address) == shown


def _email(settings: Settings, recipient: str) -> Any:
    incident = IncidentSummary(5, "Disk full", "db", "high", "triggered", NOW)
    context = message_context(
        settings, incident, notification_id=1, event="escalation", step=1, now=NOW
    )
    return email_message(context, sender=settings.smtp_from, recipient=recipient)


def test_email_is_delivered_over_smtp(smtp: SmtpReceiver, settings: Settings) -> None:
    result = send_email(settings, _email(settings, "bob@example.test"), "bob@example.test")
    assert result.outcome is Outcome.SENT, result.detail
    (mail,) = smtp.messages
    assert mail.mail_from == "pager@example.test"
    assert mail.rcpt_tos == ["bob@example.test"]
    assert mail.message["Subject"] == "[HIGH] db: Disk full (#5)"


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [("550 5.1.1 no such user", Outcome.FAILED), ("451 4.3.0 try again later", Outcome.RETRY)],
)
def test_smtp_reply_codes(
    smtp: SmtpReceiver, settings: Settings, reply: str, outcome: Outcome
) -> None:
    smtp.handler.refuse["gone@example.test"] = reply
    result = send_email(settings, _email(settings, "gone@example.test"), "gone@example.test")
    assert result.outcome is outcome
    assert result.detail.startswith(f"SMTP {reply[:3]}")
    assert smtp.messages == []


def test_smtp_server_down_is_retryable(make_settings: MakeSettings) -> None:
    settings = make_settings(smtp_port=free_port())
    result = send_email(settings, _email(settings, "bob@example.test"), "bob@example.test")
    assert result.outcome is Outcome.RETRY
    assert "SMTP connection error" in result.detail


def _authenticator(
    server: Any, session: Any, envelope: Any, _mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"pager"
        and auth_data.password == b"correct horse"
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def authenticating_smtp() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver(
        authenticator=_authenticator, auth_required=True, auth_require_tls=False
    ).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("password", "outcome"), [("correct horse", Outcome.SENT), ("battery staple", Outcome.FAILED)]
)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_and_the_password_stays_secret(
    authenticating_smtp: SmtpReceiver,
    make_settings: MakeSettings,
    caplog: pytest.LogCaptureFixture,
    password: str,
    outcome: Outcome,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(
        smtp_port=authenticating_smtp.port,
        smtp_username="pager",
        smtp_password=SecretStr(password),
    )
    result = send_email(settings, _email(settings, "bob@example.test"), "bob@example.test")
    assert result.outcome is outcome, result.detail
    assert len(authenticating_smtp.messages) == (1 if outcome is Outcome.SENT else 0)
    assert password not in result.detail
    assert password not in caplog.text
    assert password not in repr(settings)
