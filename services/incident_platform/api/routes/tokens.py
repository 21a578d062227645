import uuid

from fastapi import APIRouter, status

from incident_platform.api.deps import AdminDep, SessionDep
from incident_platform.api.errors import not_found
from incident_platform.auth import store
from incident_platform.auth.credentials import masked
from incident_platform.auth.models import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenPublic,
    ApiTokensPublic,
)

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiTokenCreated)
def create_token(body: ApiTokenCreate, session: SessionDep, _: AdminDep) -> ApiTokenCreated:
    row, credential = store.create_token(session, body.name, body.role)
    return ApiTokenCreated(
        id=row.id, name=row.name, role=row.role, token=credential.clear, created_at=row.created_at
    )


@router.get("", response_model=ApiTokensPublic)
def list_tokens(session: SessionDep, _: AdminDep) -> ApiTokensPublic:
    data = [
        ApiTokenPublic(
            id=row.id,
            name=row.name,
            role=row.role,
            token_masked=masked(row.token_prefix),
            created_at=row.created_at,
        )
        for row in store.active_tokens(session)
    ]
    return ApiTokensPublic(data=data, count=len(data))


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    if not store.revoke_token(session, token_id):
        raise not_found(f"token {token_id} not found")
