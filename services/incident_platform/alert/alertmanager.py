"""Prometheus Alertmanager webhook (version 4) to alert signals."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from incident_platform.alert.correlation import AlertSignal
from incident_platform.alert.fingerprint import derive_fingerprint
from incident_platform.alert.models import AlertStatus
from incident_platform.auth.store import IntegrationIdentity
from incident_platform.severity import Severity

# Alertmanager's "never ends" marker for endsAt while an alert fires.
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)

SEVERITY_ALIASES: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "high": Severity.HIGH,
    "error": Severity.HIGH,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "info": Severity.INFO,
    "none": Severity.INFO,
}


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: AlertStatus
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str | None = Field(default=None, max_length=4096)
    fingerprint: str | None = Field(default=None, max_length=255)

    @field_validator("endsAt", "startsAt")
    @classmethod
    def _zero_is_unset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.year <= 1:
            return None
        return value


class AlertmanagerPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str | None = None
    receiver: str | None = None
    status: AlertStatus | None = None
    alerts: list[AlertmanagerAlert] = Field(max_length=10_000)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    groupKey: str | None = None
    truncatedAlerts: int = 0


def service_of(alert: AlertmanagerAlert, integration: IntegrationIdentity) -> str:
    labels = alert.labels
    for candidate in (labels.get("service"), labels.get("job"), integration.default_service):
        if candidate and candidate.strip():
            return candidate.strip()[:255]
    return (labels.get("alertname") or "unknown").strip()[:255] or "unknown"


def severity_of(labels: dict[str, str]) -> Severity:
    return SEVERITY_ALIASES.get(labels.get("severity", "").strip().lower(), Severity.WARNING)


def to_signal(alert: AlertmanagerAlert, integration: IntegrationIdentity) -> AlertSignal:
    service = service_of(alert, integration)
    summary = (
        alert.annotations.get("summary")
        or alert.annotations.get("description")
        or alert.labels.get("alertname")
        or "Alertmanager alert"
    ).strip()[:1024] or "Alertmanager alert"
    # Alertmanager's own fingerprint is a hash of the label set: stable across
    # notifications, so repeats deduplicate. Namespaced so senders cannot collide.
    fingerprint = (
        f"am:{alert.fingerprint}"
        if alert.fingerprint
        else f"am:{derive_fingerprint(service, '', alert.labels)}"
    )
    annotations: dict[str, Any] = dict(alert.annotations)
    if alert.generatorURL:
        annotations.setdefault("generatorURL", alert.generatorURL)
    return AlertSignal(
        fingerprint=fingerprint,
        service=service,
        summary=summary,
        severity=severity_of(alert.labels),
        status=alert.status,
        source="alertmanager",
        description=alert.annotations.get("description"),
        labels=alert.labels,
        annotations=annotations,
        starts_at=alert.startsAt,
        ends_at=alert.endsAt,
        integration_id=integration.id,
    )
