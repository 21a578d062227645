"""The grouping rule table."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from incident_platform.clock import utc_now


class GroupingRuleBase(SQLModel):
    name: str = Field(sa_column=Column(String(128), nullable=False, unique=True))
    window_minutes: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    priority: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class GroupingRule(GroupingRuleBase, table=True):
    __tablename__ = "grouping_rules"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Alertmanager matcher shape, as silences store them.
    matchers: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    group_by: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    updated_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
