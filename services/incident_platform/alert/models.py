"""Alert table and the shapes senders use."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from incident_platform.clock import utc_now
from incident_platform.severity import Severity
from incident_platform.storable import Instant, StorableSQLModel

MAX_DESCRIPTION = 8192


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class IngestAction(StrEnum):
    CREATED = "created"
    ATTACHED = "attached"
    DEDUPLICATED = "deduplicated"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    # Stored, muted by an active silence: no incident, nobody paged, until the silence ends.
    SILENCED = "silenced"
    # Not stored: the alert was invalid (only in batches, where the others still count).
    REJECTED = "rejected"


class AlertBase(StorableSQLModel):
    service: str = Field(min_length=1, max_length=255)
    summary: str = Field(min_length=1, max_length=1024)
    severity: Severity = Field(default=Severity.WARNING, sa_type=String(16))
    source: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)


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


class Alert(AlertBase, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        # One firing alert per fingerprint: a repeat is a duplicate, counted, not stored.
        Index(
            "ux_alerts_firing_fingerprint",
            "fingerprint",
            unique=True,
            postgresql_where=text("status = 'firing'"),
        ),
        Index("ix_alerts_incident_id", "incident_id"),
        # Lets "is anything still firing in this incident?" answer without a scan.
        Index(
            "ix_alerts_firing_incident_id",
            "incident_id",
            postgresql_where=text("status = 'firing'"),
        ),
        Index("ix_alerts_service_id", "service", "id"),
        Index("ix_alerts_status_id", "status", "id"),
        # What the release of a silence looks for: firing alerts it still holds.
        Index(
            "ix_alerts_muted_silence_id",
            "silence_id",
            postgresql_where=text("status = 'firing' AND incident_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    # NULL while a silence mutes the alert: it opens or joins an incident when that ends.
    incident_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True),
    )
    # The silence that muted the alert when it arrived (kept once the alert is released).
    silence_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("silences.id", ondelete="SET NULL"), nullable=True),
    )
    # Which sender it came from. Deliberately not a foreign key: the check would take a
    # KEY SHARE lock on the one integration row for every alert, and under load every
    # ingesting transaction queued on that row. Integrations are revoked, never deleted.
    integration_id: uuid.UUID | None = Field(default=None)
    status: AlertStatus = Field(sa_type=String(16))
    fingerprint: str = Field(max_length=255)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    labels: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    annotations: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    occurrences: int = Field(default=1)
    starts_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    ends_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    last_seen_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    resolved_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


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
