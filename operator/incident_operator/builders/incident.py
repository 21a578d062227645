"""Incident objects: the mirror of a platform incident, its status, and the transition a
requested ``spec.state`` stands for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from incident_operator.builders.status import (
    ConditionStatus,
    clip,
    condition,
    conditions_of,
    generation_of,
    rfc3339,
    set_condition,
)
from incident_operator.crd import API_VERSION, GROUP, MANAGED_BY
from incident_operator.models import PlatformIncident, Transition

_TRANSITIONS: dict[str, Transition] = {"acknowledged": "acknowledge", "resolved": "resolve"}


def incident_name(incident_id: int) -> str:
    return f"inc-{incident_id}"


def incident_object(incident: PlatformIncident, namespace: str) -> dict[str, Any]:
    """The Incident object mirroring a platform incident (its status is written separately:
    the API server ignores ``status`` on create when the status subresource is on)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Incident",
        "metadata": {
            "name": incident_name(incident.id),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": MANAGED_BY,
                f"{GROUP}/incident-id": str(incident.id),
            },
        },
        "spec": {"incidentId": incident.id},
    }


def incident_url(public_url: str, incident_id: int) -> str:
    return f"{public_url.rstrip('/')}/api/v1/incidents/{incident_id}"


def _optional_time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


def incident_status(incident: PlatformIncident, *, public_url: str) -> dict[str, Any]:
    """The mirror's status as a merge patch; ``None`` clears a field the platform cleared."""
    return {
        "incidentId": incident.id,
        "title": incident.title[:1024],
        "service": incident.service[:255],
        "severity": incident.severity,
        "status": incident.status,
        "alertCount": incident.alert_count,
        "assignee": incident.assignee[:255] if incident.assignee else None,
        "createdAt": rfc3339(incident.created_at),
        "updatedAt": rfc3339(incident.updated_at),
        "acknowledgedAt": _optional_time(incident.acknowledged_at),
        "resolvedAt": _optional_time(incident.resolved_at),
        "timeToAcknowledgeSeconds": incident.time_to_acknowledge_seconds,
        "timeToResolveSeconds": incident.time_to_resolve_seconds,
        "changeSeq": incident.change_seq,
        "url": incident_url(public_url, incident.id),
    }


def incident_transition(state: str) -> Transition:
    """The platform transition ``spec.state`` asks for (``KeyError`` for anything else)."""
    return _TRANSITIONS[state]


def incident_sync_status(
    body: Mapping[str, Any],
    *,
    status: ConditionStatus,
    reason: str,
    message: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``Synced`` condition (did the requested ``spec.state`` reach the platform?)."""
    generation = generation_of(body)
    patch: dict[str, Any] = {
        "message": clip(message),
        "conditions": set_condition(
            conditions_of(body), condition("Synced", status, reason, message, generation, now=now)
        ),
    }
    if generation is not None:
        patch["observedGeneration"] = generation
    return patch


def mirrored_change_seqs(objects: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """``{incident id: status.changeSeq}`` of the Incident objects that mirror something.

    A mirror without ``changeSeq`` (created, status not written yet, or made by hand) counts
    as ``-1``: it exists but its status must still be written.
    """
    found: dict[int, int] = {}
    for obj in objects:
        incident_id = (obj.get("spec") or {}).get("incidentId")
        if not isinstance(incident_id, int):
            continue
        seq = (obj.get("status") or {}).get("changeSeq")
        found[incident_id] = seq if isinstance(seq, int) else -1
    return found
