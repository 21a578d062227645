"""Alert objects: the ``POST /api/v1/alerts`` body, and the status after a delivery."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from incident_operator.builders.incident import incident_name
from incident_operator.builders.status import (
    clip,
    condition,
    conditions_of,
    generation_of,
    set_condition,
)
from incident_operator.crd import GROUP
from incident_operator.models import IngestResult

# Annotation put on every alert sent from a Kubernetes object, naming that object.
SOURCE_OBJECT_ANNOTATION = f"{GROUP}/alert"
DEFAULT_SOURCE = "kubernetes"

AlertPhase = Literal["Pending", "Correlated", "Silenced", "Resolved", "Failed"]


_PHASES: dict[str, AlertPhase] = {
    "created": "Correlated",
    "attached": "Correlated",
    "deduplicated": "Correlated",
    # Stored but muted by an active silence: no incident until the silence ends.
    "silenced": "Silenced",
    "resolved": "Resolved",
    # Only a resolved alert is ignored (nothing with its fingerprint was firing): it is resolved.
    "ignored": "Resolved",
}


def alert_fingerprint(body: Mapping[str, Any]) -> str:
    """``spec.fingerprint`` or, so a re-sent object deduplicates, ``k8s:<namespace>/<name>``."""
    spec = body.get("spec") or {}
    if spec.get("fingerprint"):
        return str(spec["fingerprint"])
    meta = body.get("metadata") or {}
    return f"k8s:{meta.get('namespace') or 'default'}/{meta['name']}"


def alert_request(
    body: Mapping[str, Any], *, state: Literal["firing", "resolved"] | None = None
) -> dict[str, Any]:
    """The ``POST /api/v1/alerts`` body for an Alert object (``state`` overrides spec.state)."""
    spec = body.get("spec") or {}
    meta = body.get("metadata") or {}
    request: dict[str, Any] = {
        "service": spec.get("service"),
        "summary": spec.get("summary"),
        "status": state or spec.get("state") or "firing",
        "fingerprint": alert_fingerprint(body),
        "source": spec.get("source") or DEFAULT_SOURCE,
        "labels": dict(spec.get("labels") or {}),
        "annotations": {
            **dict(spec.get("annotations") or {}),
            SOURCE_OBJECT_ANNOTATION: f"{meta.get('namespace') or 'default'}/{meta.get('name')}",
        },
    }
    for field, key in (
        ("severity", "severity"),
        ("description", "description"),
        ("startsAt", "starts_at"),
        ("endsAt", "ends_at"),
    ):
        if spec.get(field) is not None:
            request[key] = spec[field]
    return request


def alert_status(
    result: IngestResult,
    *,
    fingerprint: str,
    body: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status patch after the platform accepted an alert."""
    generation = generation_of(body)
    phase = _PHASES[result.action]
    if result.incident_id is not None:
        message = f"platform {result.action} the alert; incident {result.incident_id}"
    elif result.action == "silenced":
        message = "platform silenced the alert: an active silence mutes it until it ends"
    else:
        message = f"platform {result.action} the alert (nothing with its fingerprint was firing)"
    status: dict[str, Any] = {
        "phase": phase,
        "action": result.action,
        "fingerprint": fingerprint,
        "message": message,
        "conditions": set_condition(
            conditions_of(body),
            condition("Ready", "True", result.action.capitalize(), message, generation, now=now),
        ),
    }
    if result.alert_id is not None:
        status["alertId"] = result.alert_id
    if result.incident_id is not None:
        status["incidentId"] = result.incident_id
        status["incidentRef"] = incident_name(result.incident_id)
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def alert_failure_status(
    message: str,
    *,
    reason: Literal["Rejected", "PlatformUnavailable"],
    fingerprint: str,
    body: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status patch when the platform refused the alert (Failed) or could not be reached
    (still Pending: the handler is retried)."""
    generation = generation_of(body)
    status: dict[str, Any] = {
        "phase": "Failed" if reason == "Rejected" else "Pending",
        "fingerprint": fingerprint,
        "message": clip(message),
        "conditions": set_condition(
            conditions_of(body), condition("Ready", "False", reason, message, generation, now=now)
        ),
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status
