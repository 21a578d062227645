"""Who may do what: roles, integration kinds and the identities credentials stand for.

Pure values; looking a credential up is :mod:`.store`, minting one :mod:`.credentials`.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum


class IntegrationKind(StrEnum):
    GENERIC = "generic"
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"

    def allows(self, required: "Role") -> bool:
        """Role rank: an admin may do what a responder may, a responder what a viewer may."""
        return _ROLE_RANK[self] >= _ROLE_RANK[required]


_ROLE_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class IntegrationIdentity:
    id: uuid.UUID
    name: str
    kind: IntegrationKind
    default_service: str | None


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role


BOOTSTRAP_ADMIN = Principal("admin", Role.ADMIN)
"""Who the ``PLATFORM_ADMIN_TOKEN`` from the settings stands for."""
