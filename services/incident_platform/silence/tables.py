"""The silence table."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from incident_platform.clock import utc_now


class Silence(SQLModel, table=True):
    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    matchers: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    starts_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    ends_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_by: str = SQLField(sa_column=Column(String(255), nullable=False))
    comment: str = SQLField(sa_column=Column(Text, nullable=False))
    created_at: datetime = SQLField(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    updated_at: datetime = SQLField(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
