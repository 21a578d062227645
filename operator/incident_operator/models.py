"""What the platform's services answer, as the operator reads it (pydantic, extra ignored).

Shared by the HTTP clients (:mod:`incident_operator.clients`), which parse the answers, and
the pure builders (:mod:`incident_operator.builders`), which turn them into status patches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Action = Literal["created", "attached", "deduplicated", "resolved", "ignored", "silenced"]
IncidentState = Literal["triggered", "acknowledged", "resolved"]
Transition = Literal["acknowledge", "resolve"]
SilenceState = Literal["pending", "active", "expired"]


class IngestResult(BaseModel):
    """The answer of ``POST /api/v1/alerts``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    alert_id: int | None
    incident_id: int | None
    action: Action


class PlatformIncident(BaseModel):
    """One incident as the incident management service returns it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    title: str
    service: str
    severity: Literal["critical", "high", "warning", "info"]
    status: IncidentState
    alert_count: int
    change_seq: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    assignee: str | None = None
    time_to_acknowledge_seconds: float | None = None
    time_to_resolve_seconds: float | None = None


class SilenceStatus(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    state: SilenceState


class PlatformSilence(BaseModel):
    """One silence as ``GET /api/v2/silence/{id}`` (Alertmanager's shape) returns it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    status: SilenceStatus
    startsAt: datetime
    endsAt: datetime
