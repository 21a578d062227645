"""Integrations (how senders authenticate) and API tokens (how people and tools do), as stored.

Only a credential's SHA-256 digest and a short visible prefix are kept; the clear value
is shown once, when it is minted (:mod:`.credentials`).
"""

import uuid
from datetime import datetime

from pydantic import field_validator
from sqlalchemy import Column, DateTime, String, func
from sqlmodel import Field

from incident_platform.auth.rules import IntegrationKind, Role
from incident_platform.clock import utc_now
from incident_platform.storable import StorableSQLModel


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


class ApiTokenBase(StorableSQLModel):
    name: str = Field(min_length=1, max_length=255)
    role: Role = Field(sa_type=String(16))

    _strip_name = field_validator("name")(_strip_nonblank)


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
