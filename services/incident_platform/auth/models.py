"""HTTP shapes of integrations and API tokens."""

import uuid
from datetime import datetime

from sqlmodel import SQLModel

from incident_platform.auth.tables import ApiTokenBase, IntegrationBase


class IntegrationCreate(IntegrationBase):
    pass


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


class ApiTokenCreate(ApiTokenBase):
    pass


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
