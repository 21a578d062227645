"""Escalation policies, which services use them, and each incident's escalation state."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from incident_platform.clock import utc_now


class EscalationPolicy(SQLModel, table=True):
    __tablename__ = "escalation_policies"
    __table_args__ = (Index("ux_escalation_policies_name", "name", unique=True),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_type=String(200))
    steps: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    )
    repeat: int = Field(default=0)
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    updated_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class ServiceRouting(SQLModel, table=True):
    """Which escalation policy pages for a service."""

    __tablename__ = "service_routing"

    service: str = Field(sa_type=String(255), primary_key=True)
    escalation_policy_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("escalation_policies.id", ondelete="RESTRICT"), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Escalation(SQLModel, table=True):
    """Where one incident's escalation stands; the engine's only state, kept in PostgreSQL."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_due", "next_due_at", postgresql_where=text("active")),)

    incident_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
        )
    )
    escalation_policy_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("escalation_policies.id", ondelete="CASCADE"), nullable=False)
    )
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    next_step: int = Field(default=0)
    repeats_done: int = Field(default=0)
    last_fired_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    next_due_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    active: bool = Field(default=True)
    # Failures in a row to evaluate this escalation (retried with backoff), and why.
    failures: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
