"""FastAPI dependencies shared by every service, as ``Annotated`` aliases."""

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from incident_platform.auth.credentials import digests_match
from incident_platform.auth.rules import (
    BOOTSTRAP_ADMIN,
    IntegrationIdentity,
    IntegrationKind,
    Principal,
    Role,
)
from incident_platform.auth.store import (
    cached_integration,
    cached_token,
    find_integration,
    find_token,
)
from incident_platform.db import get_engine, session_scope
from incident_platform.settings import Settings, get_settings

# Dependencies are ``async`` where they do no I/O: a sync one costs a thread-pool hop
# per request, measured at a tenth of a millisecond and more on the ingestion path.


async def _settings() -> Settings:
    return get_settings()


async def _engine() -> Engine:
    return get_engine()


SettingsDep = Annotated[Settings, Depends(_settings)]
EngineDep = Annotated[Engine, Depends(_engine)]


def _session() -> Iterator[Session]:
    yield from session_scope()


SessionDep = Annotated[Session, Depends(_session)]

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}

CREDENTIAL_OF: dict[Callable[..., object], str] = {}
"""Dependencies that check a credential, and what they require (``admin``,
``integration:generic`` ...): the OpenAPI declares 401/403 on the routes using them."""


def bearer_credential(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer credential in the Authorization header",
            headers=_UNAUTHENTICATED,
        )
    return credential.strip()


def _is_admin_token(credential: str, settings: Settings) -> bool:
    admin = settings.platform_admin_token
    if admin is None:
        return False
    return digests_match(credential, admin.get_secret_value())


async def authenticate(credential: str, settings: Settings, engine: Engine) -> Principal | None:
    """The one way a bearer token is checked: the principal it stands for (the bootstrap
    admin or a stored token, looked up through the credential cache), or None."""
    if _is_admin_token(credential, settings):
        return BOOTSTRAP_ADMIN
    hit, principal = cached_token(credential)
    if hit:
        return principal
    return await run_in_threadpool(
        find_token, engine, credential, ttl=settings.credential_cache_seconds
    )


def check_role(principal: Principal | None, required: Role) -> Principal:
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid credential", headers=_UNAUTHENTICATED
        )
    if not principal.role.allows(required):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role {principal.role.value} may not do this; {required.value} required",
        )
    return principal


def require_role(required: Role) -> Callable[..., Awaitable[Principal]]:
    async def dependency(request: Request, settings: SettingsDep, engine: EngineDep) -> Principal:
        principal = await authenticate(bearer_credential(request), settings, engine)
        return check_role(principal, required)

    CREDENTIAL_OF[dependency] = required.value
    return dependency


ViewerDep = Annotated[Principal, Depends(require_role(Role.VIEWER))]
ResponderDep = Annotated[Principal, Depends(require_role(Role.RESPONDER))]
AdminDep = Annotated[Principal, Depends(require_role(Role.ADMIN))]


def require_integration(kind: IntegrationKind) -> Callable[..., Awaitable[IntegrationIdentity]]:
    async def dependency(
        request: Request, settings: SettingsDep, engine: EngineDep
    ) -> IntegrationIdentity:
        credential = bearer_credential(request)
        hit, integration = cached_integration(credential)
        if not hit:
            integration = await run_in_threadpool(
                find_integration, engine, credential, ttl=settings.credential_cache_seconds
            )
        if integration is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "invalid integration key", headers=_UNAUTHENTICATED
            )
        if integration.kind is not kind:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"integration {integration.name!r} is of kind {integration.kind.value};"
                f" this endpoint takes {kind.value}",
            )
        return integration

    CREDENTIAL_OF[dependency] = f"integration:{kind.value}"
    return dependency


GenericIntegrationDep = Annotated[
    IntegrationIdentity, Depends(require_integration(IntegrationKind.GENERIC))
]
AlertmanagerIntegrationDep = Annotated[
    IntegrationIdentity, Depends(require_integration(IntegrationKind.ALERTMANAGER))
]
