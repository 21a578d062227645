"""Users as stored; contact methods are kept as JSON (always read whole with the user)."""

import uuid
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import field_validator
from sqlalchemy import Column, DateTime, Index, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from incident_platform.clock import utc_now
from incident_platform.storable import StorableSQLModel
from incident_platform.timezones import iana_zone


class UserBase(StorableSQLModel):
    name: str = Field(min_length=1, max_length=255)
    email: str = Field(max_length=320)
    timezone: str = Field(default="UTC", max_length=64)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValueError(f"not an e-mail address: {error}") from error

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        iana_zone(value)
        return value


class User(UserBase, table=True):
    __tablename__ = "users"
    __table_args__ = (Index("ux_users_email", "email", unique=True),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    contact_methods: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    )
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
