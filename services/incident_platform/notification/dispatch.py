"""Building one notification's message and sending it on its channel."""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from incident_platform.notification.messages import (
    IncidentSummary,
    email_message,
    message_context,
    slack_body,
    webhook_body,
)
from incident_platform.notification.outbox import ClaimedNotification
from incident_platform.notification.rules import Channel, Reason, SendResult
from incident_platform.notification.senders import send_email, send_slack, send_webhook
from incident_platform.settings import Settings

logger = logging.getLogger(__name__)


def _repeat(data: dict[str, Any]) -> int | None:
    value = data.get("repeat")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def send(
    settings: Settings,
    row: ClaimedNotification,
    incident: IncidentSummary | None,
    client: httpx.Client,
    clock: Callable[[], datetime],
) -> SendResult:
    """Build and send one message. Never raises: a surprise is logged and retried."""
    try:
        if incident is None:
            return SendResult.failed("incident no longer exists", Reason.INCIDENT_GONE)
        context = message_context(
            settings,
            incident,
            notification_id=row.id,
            event=row.event,
            step=row.step,
            repeat=_repeat(row.data),
            now=clock(),
        )
        if row.channel == Channel.WEBHOOK:
            return send_webhook(client, row.address, webhook_body(context))
        if row.channel == Channel.SLACK:
            return send_slack(client, row.address, slack_body(context))
        if row.channel == Channel.EMAIL:
            try:
                message = email_message(context, sender=settings.smtp_from, recipient=row.address)
            except ValueError as error:
                return SendResult.failed(
                    f"unusable e-mail address: {error}", Reason.INVALID_ADDRESS
                )
            return send_email(settings, message, row.address)
        return SendResult.failed(f"unknown channel {row.channel!r}", Reason.UNKNOWN_CHANNEL)
    except Exception as error:
        logger.exception("notification %s: unexpected error while sending", row.id)
        return SendResult.retry(f"internal error ({type(error).__name__})", Reason.INTERNAL)


def scrub(detail: str, row: ClaimedNotification) -> str:
    """Error text without the raw address (a URL may carry a token)."""
    if row.channel != Channel.EMAIL and row.address:
        detail = detail.replace(row.address, row.shown_address)
    return detail[:1000]
