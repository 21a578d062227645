"""The alert table."""

import uuid
from datetime import datetime
from typing import Any

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
from sqlmodel import Field

from incident_platform.alert.correlation import AlertStatus
from incident_platform.clock import utc_now
from incident_platform.severity import Severity
from incident_platform.storable import StorableSQLModel

MAX_DESCRIPTION = 8192


class AlertBase(StorableSQLModel):
    service: str = Field(min_length=1, max_length=255)
    summary: str = Field(min_length=1, max_length=1024)
    severity: Severity = Field(default=Severity.WARNING, sa_type=String(16))
    source: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)


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
