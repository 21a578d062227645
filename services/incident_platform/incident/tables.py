"""The incident and timeline tables."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from incident_platform.clock import utc_now
from incident_platform.incident.lifecycle import OPEN_STATUSES, IncidentStatus
from incident_platform.severity import Severity

# ``lifecycle.OPEN_STATUSES`` as SQL, for statements and index predicates that must name
# the statuses literally (a partial index is matched on its predicate's text).
OPEN_STATUSES_SQL = "(" + ", ".join(f"'{status.value}'" for status in OPEN_STATUSES) + ")"


class TimelineKind(StrEnum):
    CREATED = "created"
    ALERT_ATTACHED = "alert_attached"
    ALERT_RESOLVED = "alert_resolved"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    AUTO_RESOLVED = "auto_resolved"
    REOPENED = "reopened"
    NOTE = "note"
    SEVERITY_CHANGED = "severity_changed"
    TITLE_CHANGED = "title_changed"
    ASSIGNED = "assigned"
    NOTIFIED = "notified"
    NOTIFICATION_FAILED = "notification_failed"
    ESCALATED = "escalated"
    ESCALATION_FAILED = "escalation_failed"
    UNPAGEABLE = "unpageable"
    FLAPPING_STARTED = "flapping_started"
    FLAPPING_STOPPED = "flapping_stopped"


class IncidentBase(SQLModel):
    title: str = Field(max_length=1024)
    service: str = Field(max_length=255)
    severity: Severity = Field(sa_type=String(16))
    status: IncidentStatus = Field(sa_type=String(16))
    assignee: str | None = Field(default=None, max_length=255)


class Incident(IncidentBase, table=True):
    __tablename__ = "incidents"
    __table_args__ = (
        # The correlation guarantee: at most one open incident per group (its service,
        # or a grouping rule's group) taking alerts, across every process and replica,
        # enforced where it cannot be raced.
        Index(
            "ux_incidents_open_group_key",
            "group_key",
            unique=True,
            postgresql_where=text(f"status IN {OPEN_STATUSES_SQL} AND accepts_alerts"),
        ),
        Index("ix_incidents_status_id", "status", "id"),
        Index("ix_incidents_service_id", "service", "id"),
        Index("ix_incidents_change_seq", "change_seq"),
        Index("ix_incidents_created_at", "created_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    alert_count: int = Field(default=0)
    # ``service:<name>`` unless a grouping rule grouped it (grouping/rules.py); a trigger
    # fills in the service key when an insert leaves it out.
    group_key: str = Field(sa_column=Column(Text, nullable=False))
    grouping_rule: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    # False once a rule's time window closed on it: its group opens a new incident.
    accepts_alerts: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    flapping: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    # Moved up on every change so followers (the operator, the event stream) can resume
    # from a cursor instead of relisting everything; derived from the writing transaction's
    # id so that positions below the feed horizon are final (see incident/feed.py).
    change_seq: int = Field(
        sa_column=Column(
            BigInteger,
            nullable=False,
            server_default=text("incident_change_position()"),
        )
    )
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    updated_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    acknowledged_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    resolved_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


# The table itself, for statements that read plain rows: columns of it carry no ORM
# annotations, so such a statement skips the ORM's compile and load steps.
INCIDENTS = Incident.metadata.tables["incidents"]


class TimelineEvent(SQLModel, table=True):
    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_incident_id_id", "incident_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    incident_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False)
    )
    at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    kind: TimelineKind = Field(sa_type=String(32))
    actor: str = Field(max_length=255)
    message: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
