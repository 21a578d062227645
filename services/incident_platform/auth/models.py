"""Integrations (how senders authenticate) and API tokens (how people and tools do)."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import Column, DateTime, String, func
from sqlmodel import Field, SQLModel

from incident_platform.clock import utc_now
from incident_platform.storable import StorableSQLModel


class IntegrationKind(StrEnum):
    GENERIC = "generic"
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"

    def allows(self, required: "Role") -> bool:
        return _ROLE_RANK[self] >= _ROLE_RANK[required]


_ROLE_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.ADMIN: 2}


def _strip_nonblank(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


class IntegrationBase(StorableSQLModel):
    name: str = Field(min_length=1, max_length=255)
    kind: IntegrationKind = Field(sa_type=String(16))
    default_service: str | None = Field(default=None, min_length=1, max_length=255)

    _strip_name = field_validator("name")(_strip_nonblank)


class IntegrationCreate(IntegrationBase):
    pass


class Integration(IntegrationBase, table=True):
    __tablename__ = "integrations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True)
    key_prefix: str = Field(max_length=32)
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class IntegrationPublic(IntegrationBase):
    id: uuid.UUID
    key_masked: str
    created_at: datetime


class IntegrationCreated(IntegrationBase):
    """The only answer that ever carries the clear key."""

    id: uuid.UUID
    key: str
    created_at: datetime


class IntegrationsPublic(SQLModel):
    data: list[IntegrationPublic]
    count: int


class ApiTokenBase(StorableSQLModel):
    name: str = Field(min_length=1, max_length=255)
    role: Role = Field(sa_type=String(16))

    _strip_name = field_validator("name")(_strip_nonblank)


class ApiTokenCreate(ApiTokenBase):
    pass


class ApiToken(ApiTokenBase, table=True):
    __tablename__ = "api_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    token_prefix: str = Field(max_length=32)
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ApiTokenPublic(ApiTokenBase):
    id: uuid.UUID
    token_masked: str
    created_at: datetime


class ApiTokenCreated(ApiTokenBase):
    id: uuid.UUID
    token: str
    created_at: datetime


class ApiTokensPublic(SQLModel):
    data: list[ApiTokenPublic]
    count: int
