"""Putting one message on the wire, and classifying what happened.

Every sender returns a :class:`SendResult` instead of raising: ``sent``,
``retry`` (worth another try later: 5xx, 408, 429, timeouts, connection errors,
SMTP 4xx) or ``failed`` (it will not work by trying again: other 4xx, redirects,
SMTP 5xx, unusable addresses). Details never contain credentials: webhook URLs
are shown redacted and the SMTP password is only ever handed to ``login``.
"""

import contextlib
import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import Any

import httpx

from incident_platform.notification.rules import Reason, SendResult
from incident_platform.settings import Settings

USER_AGENT = "incident-platform-notifier/1"
RETRYABLE_HTTP_STATUSES = frozenset({408, 425, 429})
MAX_RESPONSE_BYTES = 64 * 1024
# A webhook path segment this long is shown as "…": it is likely a token.
SECRET_LOOKING_SEGMENT = 16


def display_address(channel: str, address: str) -> str:
    """The address as people and logs may see it.

    E-mail addresses as they are. Webhook URLs without user-info, query or
    fragment, and with long path segments (where tokens live, as in Discord or
    Mattermost hooks) shown as ``…``. Slack incoming-webhook URLs without their
    path, which *is* the credential.
    """
    if channel == "email":
        return " ".join(address.split())
    try:
        url = httpx.URL(address)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "(invalid URL)"
    if url.scheme not in ("http", "https") or not url.host:
        return "(invalid URL)"
    port = f":{url.port}" if url.port is not None else ""
    origin = f"{url.scheme}://{url.host}{port}"
    if channel == "slack":
        return f"{origin}/…"
    segments = [
        "…" if len(segment) >= SECRET_LOOKING_SEGMENT else segment
        for segment in url.path.split("/")
    ]
    return origin + "/".join(segments)


def make_http_client(settings: Settings) -> httpx.Client:
    """One client for a delivery batch, shared by its worker threads (pooled connections)."""
    return httpx.Client(
        timeout=settings.notification_timeout_seconds,
        follow_redirects=False,
        limits=httpx.Limits(
            max_connections=settings.notification_concurrency,
            max_keepalive_connections=settings.notification_concurrency,
        ),
        headers={"User-Agent": USER_AGENT},
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def classify_http_status(response: httpx.Response) -> SendResult:
    status = response.status_code
    detail = f"HTTP {status}" + (f" {response.reason_phrase}" if response.reason_phrase else "")
    if 200 <= status < 300:
        return SendResult.sent(detail)
    if status >= 500 or status in RETRYABLE_HTTP_STATUSES:
        return SendResult.retry(detail, Reason.HTTP_STATUS, _retry_after(response))
    if 300 <= status < 400:
        return SendResult.failed(
            f"{detail} (redirects are not followed; fix the URL)", Reason.HTTP_STATUS
        )
    return SendResult.failed(detail, Reason.HTTP_STATUS)


def post_json(client: httpx.Client, url: str, body: dict[str, Any]) -> SendResult:
    """POST ``body`` as JSON; only the status counts (the body is read up to a small bound)."""
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return SendResult.failed("invalid URL", Reason.INVALID_ADDRESS)
    if target.scheme not in ("http", "https") or not target.host:
        return SendResult.failed(
            "invalid URL: only http and https URLs can be notified", Reason.INVALID_ADDRESS
        )
    try:
        with client.stream("POST", target, json=body) as response:
            # Drain a small body so the connection can be reused; never more than that.
            received = 0
            for chunk in response.iter_raw():
                received += len(chunk)
                if received > MAX_RESPONSE_BYTES:
                    break
            return classify_http_status(response)
    except httpx.TimeoutException as error:
        return SendResult.retry(f"timeout ({type(error).__name__})", Reason.TIMEOUT)
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as error:
        return SendResult.failed(f"cannot send: {type(error).__name__}", Reason.INVALID_ADDRESS)
    except httpx.TransportError as error:
        return SendResult.retry(
            f"connection error ({type(error).__name__}: {error})", Reason.CONNECTION
        )


def send_webhook(client: httpx.Client, url: str, body: dict[str, Any]) -> SendResult:
    return post_json(client, url, body)


def send_slack(client: httpx.Client, url: str, body: dict[str, Any]) -> SendResult:
    return post_json(client, url, body)


def _smtp_reply(code: int, reply: bytes | str, what: str) -> SendResult:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    detail = f"SMTP {code} {' '.join(text.split())[:200]} ({what})"
    if 500 <= code < 600:
        return SendResult.failed(detail, Reason.SMTP)
    return SendResult.retry(detail, Reason.SMTP)


def _connect(settings: Settings) -> smtplib.SMTP:
    timeout = settings.notification_timeout_seconds
    # An explicit EHLO name: smtplib would otherwise look up this host's FQDN in DNS.
    local_hostname = socket.gethostname() or "localhost"
    if settings.smtp_ssl:
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            local_hostname=local_hostname,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, local_hostname=local_hostname, timeout=timeout
    )


def send_email(settings: Settings, message: EmailMessage, recipient: str) -> SendResult:
    """Hand one message to the SMTP relay. Blocking: call it from a worker thread."""
    try:
        smtp = _connect(settings)
        try:
            if settings.smtp_starttls and not settings.smtp_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                secret = settings.smtp_password
                smtp.login(settings.smtp_username, secret.get_secret_value() if secret else "")
            smtp.send_message(message, from_addr=settings.smtp_from, to_addrs=[recipient])
        finally:
            # Once the message is accepted, a failed QUIT must not turn it into a retry.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()), (450, b"refused"))
        return _smtp_reply(code, reply, "recipient refused")
    except smtplib.SMTPAuthenticationError as error:
        return _smtp_reply(error.smtp_code, error.smtp_error, "login refused")
    except smtplib.SMTPResponseException as error:
        return _smtp_reply(error.smtp_code, error.smtp_error, type(error).__name__)
    except smtplib.SMTPNotSupportedError as error:
        return SendResult.failed(
            f"SMTP server does not support what is configured: {error}", Reason.SMTP
        )
    except (smtplib.SMTPException, OSError) as error:
        # Disconnects, refused connections, timeouts, TLS handshake failures.
        return SendResult.retry(
            f"SMTP connection error ({type(error).__name__}: {error})", Reason.CONNECTION
        )
    return SendResult.sent(f"accepted by {settings.smtp_host}:{settings.smtp_port}")
