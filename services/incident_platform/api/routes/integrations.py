import uuid

from fastapi import APIRouter, status

from incident_platform.api.deps import AdminDep, SessionDep
from incident_platform.api.errors import not_found
from incident_platform.auth import store
from incident_platform.auth.credentials import masked
from incident_platform.auth.models import (
    IntegrationCreate,
    IntegrationCreated,
    IntegrationPublic,
    IntegrationsPublic,
)
from incident_platform.auth.tables import Integration

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
    integration, credential = store.create_integration(
        session, body.name, body.kind, body.default_service
    )
    return IntegrationCreated(
        id=integration.id,
        name=integration.name,
        kind=integration.kind,
        default_service=integration.default_service,
        key=credential.clear,
        created_at=integration.created_at,
    )


@router.get("", response_model=IntegrationsPublic)
def list_integrations(session: SessionDep, _: AdminDep) -> IntegrationsPublic:
    data = [_public(row) for row in store.active_integrations(session)]
    return IntegrationsPublic(data=data, count=len(data))


@router.delete("/{integration_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_integration(integration_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    if not store.revoke_integration(session, integration_id):
        raise not_found(f"integration {integration_id} not found")
