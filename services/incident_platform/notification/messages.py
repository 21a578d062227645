"""What a notification says, for each channel: pure functions, no I/O.

Every message carries the signed acknowledge link. Text that comes from alerts
(titles, service names) is escaped for Slack and kept on one line in e-mail
headers, so an alert cannot ping a channel or inject a header.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from incident_platform.notification.signing import (
    ack_expiry,
    ack_key,
    ack_url_for_token,
    sign_ack_token,
)
from incident_platform.settings import Settings

WEBHOOK_VERSION = 1


@dataclass(frozen=True)
class IncidentSummary:
    id: int
    title: str
    service: str
    severity: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class MessageContext:
    """Everything any channel's message is built from."""

    notification_id: int
    event: str
    step: int | None
    repeat: int | None
    incident: IncidentSummary
    incident_url: str
    ack_url: str
    ack_expires_at: datetime
    sent_at: datetime


def incident_url(settings: Settings, incident_id: int) -> str:
    return f"{str(settings.public_url).rstrip('/')}/api/v1/incidents/{incident_id}"


def message_context(
    settings: Settings,
    incident: IncidentSummary,
    *,
    notification_id: int,
    event: str,
    step: int | None,
    now: datetime,
    repeat: int | None = None,
) -> MessageContext:
    expires_at = ack_expiry(settings, now)
    token = sign_ack_token(incident.id, expires_at, ack_key(settings))
    return MessageContext(
        notification_id=notification_id,
        event=event,
        step=step,
        repeat=repeat,
        incident=incident,
        incident_url=incident_url(settings, incident.id),
        ack_url=ack_url_for_token(settings, token),
        ack_expires_at=expires_at.replace(microsecond=0),
        sent_at=now,
    )


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def headline(context: MessageContext) -> str:
    """``[CRITICAL] checkout: Payment errors (#42)``"""
    incident = context.incident
    return (
        f"[{incident.severity.upper()}] {_one_line(incident.service)}:"
        f" {_one_line(incident.title)} (#{incident.id})"
    )


def _why(context: MessageContext) -> str:
    """``escalation step 2, repeat 1`` - what made us send this."""
    parts = [context.event]
    if context.step is not None:
        parts[0] += f" step {context.step}"
    if context.repeat:
        parts.append(f"repeat {context.repeat}")
    return ", ".join(parts)


def webhook_body(context: MessageContext) -> dict[str, Any]:
    incident = context.incident
    return {
        "version": WEBHOOK_VERSION,
        "event": context.event,
        "notification_id": context.notification_id,
        "step": context.step,
        "repeat": context.repeat,
        "sent_at": _iso(context.sent_at),
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "service": incident.service,
            "severity": incident.severity,
            "status": incident.status,
            "created_at": _iso(incident.created_at),
            "url": context.incident_url,
        },
        "ack_url": context.ack_url,
        "ack_expires_at": _iso(context.ack_expires_at),
    }


def slack_escape(text: str) -> str:
    """Slack's mrkdwn escaping: ``<!channel>`` in a title stays text, not a ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(context: MessageContext) -> dict[str, Any]:
    """An incoming-webhook payload: ``text`` for notifications, ``blocks`` for the message."""
    incident = context.incident
    title = slack_escape(headline(context))
    details = (
        f"Service: `{slack_escape(_one_line(incident.service))}` · Severity: {incident.severity}"
        f" · Status: {incident.status} · {slack_escape(_why(context))}"
    )
    return {
        "text": f"{title}: <{context.ack_url}|Acknowledge>",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*<{context.incident_url}|{title}>*"},
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": details}]},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                        "style": "danger",
                        "url": context.ack_url,
                        "action_id": "acknowledge",
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open incident"},
                        "url": context.incident_url,
                        "action_id": "open_incident",
                    },
                ],
            },
        ],
    }


def email_text(context: MessageContext) -> str:
    incident = context.incident
    return "\n".join(
        [
            headline(context),
            "",
            f"Service:   {incident.service}",
            f"Severity:  {incident.severity}",
            f"Status:    {incident.status}",
            f"Opened:    {_iso(incident.created_at)}",
            f"Why:       {_why(context)}",
            f"Incident:  {context.incident_url}",
            "",
            "Acknowledge (one click, no login needed):",
            context.ack_url,
            "",
            f"The link acknowledges incident #{incident.id} only and works until"
            f" {_iso(context.ack_expires_at)}.",
            "",
        ]
    )


def email_message(context: MessageContext, *, sender: str, recipient: str) -> EmailMessage:
    """The e-mail for one recipient. ``ValueError`` if an address is not usable in a header."""
    if any(char in recipient for char in "\r\n,;") or "@" not in recipient:
        raise ValueError("not a single e-mail address")
    message = EmailMessage()
    message["Subject"] = headline(context)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(context.sent_at.astimezone(UTC))
    domain = sender.rpartition("@")[2].strip(" >") or "incident-platform.invalid"
    # An explicit domain: make_msgid would otherwise resolve this host's FQDN (slow, can hang).
    message["Message-ID"] = make_msgid(
        idstring=f"notification-{context.notification_id}", domain=domain
    )
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to pages
    message["X-Incident-Id"] = str(context.incident.id)
    message.set_content(email_text(context))
    return message
