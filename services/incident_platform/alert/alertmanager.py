"""Prometheus Alertmanager webhook (version 4) to alert signals.

Alertmanager drops a whole notification on a 4xx and retries all of it on a 5xx, so one
bad alert must not cost the others: the envelope is validated as a whole (its ``alerts``
must be a list), each alert on its own (:func:`split_alerts`). Valid alerts are stored,
invalid ones are reported per alert with the reason.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from incident_platform.alert.correlation import AlertSignal, AlertStatus
from incident_platform.alert.fingerprint import derive_fingerprint, namespaced
from incident_platform.alert.tables import MAX_DESCRIPTION
from incident_platform.auth.rules import IntegrationIdentity
from incident_platform.severity import Severity
from incident_platform.storable import StorableModel, check_instant

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


class AlertmanagerAlert(StorableModel):
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
        if value is None or value.year <= 1:
            return None
        return check_instant(value)


class AlertmanagerPayload(BaseModel):
    """The envelope. Its other fields are not stored; ``alerts`` items are checked one by
    one in :func:`split_alerts`, so the schema documents them without refusing the batch."""

    model_config = ConfigDict(extra="ignore")

    version: str | None = None
    receiver: str | None = None
    status: AlertStatus | None = None
    alerts: list[SkipValidation[AlertmanagerAlert]] = Field(max_length=10_000)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    groupKey: str | None = None
    truncatedAlerts: int = 0


@dataclass(frozen=True, slots=True)
class SplitAlerts:
    """The alerts of one notification: the valid ones with their position, and why the
    others were refused, by position."""

    valid: list[tuple[int, AlertmanagerAlert]]
    rejected: dict[int, str]


def rejection_reason(index: int, error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in (f"alerts[{index}]", *item["loc"]))
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)[:2000]


# All of a notification's alerts in one call (nearly every notification is valid): 100
# calls of ``model_validate`` cost their own overhead each, 4 % of a webhook's CPU.
_EVERY_ALERT: TypeAdapter[list[AlertmanagerAlert]] = TypeAdapter(list[AlertmanagerAlert])


def split_alerts(alerts: list[Any]) -> SplitAlerts:
    try:
        return SplitAlerts(list(enumerate(_EVERY_ALERT.validate_python(alerts))), {})
    except ValidationError:
        pass  # some alert is invalid: find which, and keep the others
    valid: list[tuple[int, AlertmanagerAlert]] = []
    rejected: dict[int, str] = {}
    for index, raw in enumerate(alerts):
        try:
            valid.append((index, AlertmanagerAlert.model_validate(raw)))
        except ValidationError as error:
            rejected[index] = rejection_reason(index, error)
    return SplitAlerts(valid, rejected)


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
        namespaced("am", alert.fingerprint)
        if alert.fingerprint
        else namespaced("am", derive_fingerprint(service, "", alert.labels))
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
        # Within what the alert API accepts, so every stored alert reads back.
        description=(alert.annotations.get("description") or "")[:MAX_DESCRIPTION] or None,
        labels=alert.labels,
        annotations=annotations,
        starts_at=alert.startsAt,
        ends_at=alert.endsAt,
        integration_id=integration.id,
    )
