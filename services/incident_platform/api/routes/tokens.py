import uuid

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import func, select
from sqlmodel import col

from incident_platform.api.deps import AdminDep, SessionDep
from incident_platform.auth.models import (
    ApiToken,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenPublic,
    ApiTokensPublic,
)
from incident_platform.auth.store import forget_cached_credentials
from incident_platform.security import VISIBLE_PREFIX_CHARS, generate_secret, hash_secret, masked

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiTokenCreated)
def create_token(body: ApiTokenCreate, session: SessionDep, _: AdminDep) -> ApiTokenCreated:
    token = generate_secret(f"ipt_{body.role.value[:1]}")
    row = ApiToken(
        name=body.name,
        role=body.role,
        token_hash=hash_secret(token),
        token_prefix=token[: VISIBLE_PREFIX_CHARS + 6],
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return ApiTokenCreated(
        id=row.id, name=row.name, role=row.role, token=token, created_at=row.created_at
    )


@router.get("", response_model=ApiTokensPublic)
def list_tokens(session: SessionDep, _: AdminDep) -> ApiTokensPublic:
    rows = session.execute(
        select(ApiToken)
        .where(col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.created_at))
    ).scalars()
    data = [
        ApiTokenPublic(
            id=row.id,
            name=row.name,
            role=row.role,
            token_masked=masked(row.token_prefix),
            created_at=row.created_at,
        )
        for row in rows
    ]
    return ApiTokensPublic(data=data, count=len(data))


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"token {token_id} not found")
    row.revoked_at = session.execute(select(func.now())).scalar_one()
    session.commit()
    forget_cached_credentials()
