"""Message builders per channel: pure, every message carries the signed acknowledge link."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from incident_platform.notification.messages import (
    IncidentSummary,
    MessageContext,
    email_message,
    headline,
    message_context,
    slack_body,
    webhook_body,
)
from incident_platform.notification.signing import verify_ack_token
from incident_platform.settings import Settings

NOW = datetime(2030, 5, 17, 3, 4, 5, 678000, tzinfo=UTC)
KEY = "message-test-key"


def settings() -> Settings:
    return Settings(
        ack_signing_key=SecretStr(KEY),
        oncall_public_url="https://oncall.example.test",
        public_url="https://incidents.example.test/",
        ack_link_ttl_seconds=7200,
    )


def context(title: str = "Payment errors", service: str = "checkout") -> MessageContext:
    incident = IncidentSummary(
        id=42,
        title=title,
        service=service,
        severity="critical",
        status="triggered",
        created_at=NOW - timedelta(minutes=3),
    )
    return message_context(
        settings(), incident, notification_id=9, event="escalation", step=2, repeat=1, now=NOW
    )


def token_of(url: str) -> str:
    prefix = "https://oncall.example.test/api/v1/ack/"
    assert url.startswith(prefix)
    return url.removeprefix(prefix)


def test_webhook_body_shape() -> None:
    body = webhook_body(context())
    assert body == {
        "version": 1,
        "event": "escalation",
        "notification_id": 9,
        "step": 2,
        "repeat": 1,
        "sent_at": "2030-05-17T03:04:05.678000Z",
        "incident": {
            "id": 42,
            "title": "Payment errors",
            "service": "checkout",
            "severity": "critical",
            "status": "triggered",
            "created_at": "2030-05-17T03:01:05.678000Z",
            "url": "https://incidents.example.test/api/v1/incidents/42",
        },
        "ack_url": body["ack_url"],
        "ack_expires_at": "2030-05-17T05:04:05Z",
    }
    assert verify_ack_token(token_of(body["ack_url"]), KEY.encode(), NOW) == 42


def test_slack_body_has_text_blocks_and_an_acknowledge_button() -> None:
    body = slack_body(context())
    ack = webhook_body(context())["ack_url"]
    assert body["text"].startswith("[CRITICAL] checkout: Payment errors (#42)")
    assert token_of(ack) != ""
    buttons = [
        element
        for block in body["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    acknowledge = next(button for button in buttons if button["action_id"] == "acknowledge")
    assert acknowledge["text"]["text"] == "Acknowledge"
    assert verify_ack_token(token_of(acknowledge["url"]), KEY.encode(), NOW) == 42
    assert acknowledge["url"] in body["text"]
    section = body["blocks"][0]["text"]["text"]
    assert "https://incidents.example.test/api/v1/incidents/42" in section


def test_slack_escapes_alert_text() -> None:
    body = slack_body(context(title="<!channel> disk full & <https://evil.test|click>"))
    rendered = str(body)
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt; disk full &amp; &lt;https://evil.test|click&gt;" in body["text"]


def test_email_subject_body_and_headers() -> None:
    message = email_message(context(), sender="pager@example.test", recipient="alice@example.test")
    assert message["Subject"] == "[CRITICAL] checkout: Payment errors (#42)"
    assert message["To"] == "alice@example.test"
    assert message["From"] == "pager@example.test"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.test>")
    assert message.get_content_type() == "text/plain"
    text = message.get_content()
    ack = webhook_body(context())["ack_url"]
    assert ack in text.splitlines()
    assert "https://incidents.example.test/api/v1/incidents/42" in text
    assert "escalation step 2, repeat 1" in text


def test_email_subject_stays_one_line_whatever_the_title() -> None:
    message = email_message(
        context(title="disk full\r\nBcc: everyone@example.test", service="db\nprimary"),
        sender="pager@example.test",
        recipient="alice@example.test",
    )
    assert message["Subject"] == "[CRITICAL] db primary: disk full Bcc: everyone@example.test (#42)"
    assert message["Bcc"] is None


@pytest.mark.parametrize(
    "recipient", ["alice@example.test\r\nBcc: x@example.test", "a@x.test, b@y.test", "nobody"]
)
def test_email_refuses_unusable_recipients(recipient: str) -> None:
    with pytest.raises(ValueError, match="e-mail address"):
        email_message(context(), sender="pager@example.test", recipient=recipient)


def test_headline_without_step_or_repeat() -> None:
    incident = IncidentSummary(1, "t", "s", "info", "triggered", NOW)
    plain = message_context(
        settings(), incident, notification_id=1, event="triggered", step=None, now=NOW
    )
    assert headline(plain) == "[INFO] s: t (#1)"
    assert webhook_body(plain)["step"] is None
