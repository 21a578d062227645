"""How notifications travel and where each one stands: plain values, no I/O.

The retry policy is :mod:`.retry`; the outbox SQL :mod:`.outbox`.
"""

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """How a message reaches someone; also the ``type`` of a user's contact method."""

    WEBHOOK = "webhook"
    SLACK = "slack"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    # An escalation page still waiting for a retry when its incident stopped escalating.
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


class Reason(StrEnum):
    """Why a send did not succeed, in few words: the ``reason`` label of
    ``notification_errors_total`` (the detail has the specifics)."""

    NONE = ""
    HTTP_STATUS = "http_status"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    INVALID_ADDRESS = "invalid_address"
    SMTP = "smtp"
    INCIDENT_GONE = "incident_gone"
    UNKNOWN_CHANNEL = "unknown_channel"
    INTERNAL = "internal"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str
    # Seconds the receiver asked us to wait (HTTP Retry-After), if it said.
    retry_after: float | None = None
    reason: Reason = Reason.NONE

    @classmethod
    def sent(cls, detail: str) -> "SendResult":
        return cls(Outcome.SENT, detail)

    @classmethod
    def retry(cls, detail: str, reason: Reason, retry_after: float | None = None) -> "SendResult":
        return cls(Outcome.RETRY, detail, retry_after, reason)

    @classmethod
    def failed(cls, detail: str, reason: Reason) -> "SendResult":
        return cls(Outcome.FAILED, detail, None, reason)
