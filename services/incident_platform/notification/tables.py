"""The notification outbox: one row per message to one address.

The escalation engine only writes rows; delivery happens apart from it, under a
lease, so a slow or dead receiver never holds up the engine or other messages,
and a crash mid-delivery leaves the row to be retried rather than lost.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from incident_platform.clock import utc_now
from incident_platform.notification.rules import Channel, DeliveryStatus


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "ix_notifications_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_notifications_incident_id", "incident_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    incident_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    channel: Channel = Field(sa_type=String(16))
    address: str = Field(sa_column=Column(Text, nullable=False))
    event: str = Field(sa_type=String(32))
    step: int | None = None
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=String(16))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    # Set while a worker delivers it; another worker may take it over once it lapses.
    lease_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    sent_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
