"""Users and their contact methods."""

import uuid
import zoneinfo
from datetime import datetime
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AnyHttpUrl, ConfigDict, ValidationInfo, field_validator
from sqlalchemy import Column, DateTime, Index, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from incident_platform.clock import utc_now
from incident_platform.storable import StorableModel, StorableSQLModel


class ContactType(StrEnum):
    WEBHOOK = "webhook"
    SLACK = "slack"
    EMAIL = "email"


def check_http_url(value: str) -> str:
    url = AnyHttpUrl(value)
    if not url.host:
        raise ValueError("must be an http(s) URL with a host")
    return value


class ContactMethod(StorableModel):
    model_config = ConfigDict(extra="forbid")

    type: ContactType
    address: str

    @field_validator("address")
    @classmethod
    def _address_fits_type(cls, value: str, info: ValidationInfo) -> str:
        if not value or len(value) > 2048:
            raise ValueError("must be 1 to 2048 characters")
        kind = info.data.get("type")
        if kind is ContactType.EMAIL:
            try:
                validate_email(value, check_deliverability=False)
            except EmailNotValidError as error:
                raise ValueError(f"not an e-mail address: {error}") from error
        elif kind in (ContactType.WEBHOOK, ContactType.SLACK):
            check_http_url(value)
        return value


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
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone {value!r}") from error
        return value


class UserCreate(UserBase):
    contact_methods: list[ContactMethod] = Field(default_factory=list, max_length=20)


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


class UserPublic(UserBase):
    id: uuid.UUID
    contact_methods: list[ContactMethod]
    created_at: datetime


class UsersPublic(SQLModel):
    data: list[UserPublic]
    count: int
