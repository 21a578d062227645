"""The alert API's request and response shapes: what senders post and readers get."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from incident_platform.alert.correlation import AlertStatus, IngestAction
from incident_platform.alert.tables import AlertBase
from incident_platform.storable import Instant


class AlertCreate(AlertBase):
    """``POST /api/v1/alerts``: what a script or a generic sender posts."""

    status: AlertStatus = AlertStatus.FIRING
    fingerprint: str | None = Field(default=None, min_length=1, max_length=255)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: Instant | None = None
    ends_at: Instant | None = None

    @field_validator("service", "summary")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("must not be blank")
        return stripped


class AlertPublic(AlertBase):
    id: int
    incident_id: int | None = Field(description="None while a silence mutes the alert")
    silence_id: uuid.UUID | None = Field(description="The silence that muted the alert, if any")
    status: AlertStatus
    fingerprint: str
    labels: dict[str, Any]
    annotations: dict[str, Any]
    occurrences: int
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


class AlertsPublic(SQLModel):
    data: list[AlertPublic]
    count: int
    next_cursor: str | None


class IngestResult(SQLModel):
    alert_id: int | None
    incident_id: int | None
    action: IngestAction


class BatchIngestResult(IngestResult):
    """One alert of a batch: what happened to it, or why it was rejected."""

    reason: str | None = Field(default=None, description="Why the alert was rejected")


class IngestResults(SQLModel):
    results: list[BatchIngestResult]
