"""PagerDuty Events API v2 (``/v2/enqueue``) to alert signals.

Kept close to PagerDuty's documented contract so existing senders (the official
``pagerduty`` client, Grafana, Datadog, scripts) need only a new base URL.
"""

import uuid
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, model_validator

from incident_platform.alert.correlation import AlertSignal, AlertStatus
from incident_platform.alert.fingerprint import namespaced
from incident_platform.alert.tables import MAX_DESCRIPTION
from incident_platform.auth.rules import IntegrationIdentity
from incident_platform.severity import Severity
from incident_platform.storable import Instant, StorableModel


class EventAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class PagerDutySeverity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_MAP = {
    PagerDutySeverity.CRITICAL: Severity.CRITICAL,
    PagerDutySeverity.ERROR: Severity.HIGH,
    PagerDutySeverity.WARNING: Severity.WARNING,
    PagerDutySeverity.INFO: Severity.INFO,
}


class EventPayload(StorableModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: PagerDutySeverity
    timestamp: Instant | None = None
    component: str | None = Field(default=None, max_length=255)
    group: str | None = Field(default=None, max_length=255)
    class_: str | None = Field(default=None, alias="class", max_length=255)
    custom_details: dict[str, Any] | str | None = None


class Event(StorableModel):
    model_config = ConfigDict(extra="ignore")

    routing_key: str = Field(min_length=1, max_length=255)
    event_action: EventAction
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    payload: EventPayload | None = None
    client: str | None = None
    client_url: str | None = None

    @model_validator(mode="after")
    def _trigger_needs_payload_others_need_key(self) -> "Event":
        if self.event_action is EventAction.TRIGGER and self.payload is None:
            raise ValueError("payload is required for a trigger event")
        if self.event_action is not EventAction.TRIGGER and self.dedup_key is None:
            raise ValueError(f"dedup_key is required for a {self.event_action.value} event")
        return self


def error_messages(error: ValidationError) -> list[str]:
    """PagerDuty lists errors as sentences that name the field."""
    messages = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "event"
        messages.append(f"{location}: {item['msg']}")
    return messages


def fingerprint_of(dedup_key: str) -> str:
    return namespaced("pd", dedup_key)


def new_dedup_key() -> str:
    return uuid.uuid4().hex


def to_signal(event: Event, dedup_key: str, integration: IntegrationIdentity) -> AlertSignal:
    payload = event.payload
    if event.event_action is EventAction.RESOLVE or payload is None:
        return AlertSignal(
            fingerprint=fingerprint_of(dedup_key),
            service=integration.default_service or "unknown",
            summary=f"resolved by dedup_key {dedup_key}"[:1024],
            status=AlertStatus.RESOLVED,
            source="pagerduty",
            integration_id=integration.id,
        )
    service = (payload.component or integration.default_service or payload.source).strip()
    service = service[:255] or "unknown"
    details = payload.custom_details
    annotations: dict[str, Any] = {}
    if details is not None:
        annotations["custom_details"] = details
    if event.client_url:
        annotations["client_url"] = event.client_url
    labels = {
        key: value
        for key, value in (
            ("source", payload.source),
            ("component", payload.component),
            ("group", payload.group),
            ("class", payload.class_),
        )
        if value
    }
    return AlertSignal(
        fingerprint=fingerprint_of(dedup_key),
        service=service[:255],
        summary=payload.summary,
        severity=SEVERITY_MAP[payload.severity],
        status=AlertStatus.FIRING,
        source="pagerduty",
        description=details[:MAX_DESCRIPTION] if isinstance(details, str) else None,
        labels=labels,
        annotations=annotations,
        starts_at=payload.timestamp,
        integration_id=integration.id,
    )
