import uuid

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import func, select
from sqlmodel import col

from incident_platform.api.deps import AdminDep, SessionDep
from incident_platform.auth.models import (
    Integration,
    IntegrationCreate,
    IntegrationCreated,
    IntegrationPublic,
    IntegrationsPublic,
)
from incident_platform.auth.store import forget_cached_credentials
from incident_platform.security import (
    VISIBLE_PREFIX_CHARS,
    generate_secret,
    hash_secret,
    masked,
)

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])


def _public(integration: Integration) -> IntegrationPublic:
    return IntegrationPublic(
        id=integration.id,
        name=integration.name,
        kind=integration.kind,
        default_service=integration.default_service,
        key_masked=masked(integration.key_prefix),
        created_at=integration.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=IntegrationCreated)
def create_integration(
    body: IntegrationCreate, session: SessionDep, _: AdminDep
) -> IntegrationCreated:
    key = generate_secret(f"ik_{body.kind.value[:2]}")
    integration = Integration(
        name=body.name,
        kind=body.kind,
        default_service=body.default_service,
        key_hash=hash_secret(key),
        key_prefix=key[: VISIBLE_PREFIX_CHARS + 6],
    )
    session.add(integration)
    session.commit()
    session.refresh(integration)
    return IntegrationCreated(
        id=integration.id,
        name=integration.name,
        kind=integration.kind,
        default_service=integration.default_service,
        key=key,
        created_at=integration.created_at,
    )


@router.get("", response_model=IntegrationsPublic)
def list_integrations(session: SessionDep, _: AdminDep) -> IntegrationsPublic:
    rows = session.execute(
        select(Integration)
        .where(col(Integration.revoked_at).is_(None))
        .order_by(col(Integration.created_at))
    ).scalars()
    data = [_public(row) for row in rows]
    return IntegrationsPublic(data=data, count=len(data))


@router.delete("/{integration_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_integration(integration_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    integration = session.get(Integration, integration_id)
    if integration is None or integration.revoked_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"integration {integration_id} not found")
    integration.revoked_at = session.execute(select(func.now())).scalar_one()
    session.commit()
    forget_cached_credentials()
