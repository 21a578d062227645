import uuid
from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel

from incident_platform.api.deps import AdminDep, SessionDep, ViewerDep
from incident_platform.api.errors import commit_unique, conflict, field_error, not_found
from incident_platform.api.openapi import CONFLICT
from incident_platform.escalation import rules, store, tables
from incident_platform.escalation.models import EscalationPolicyModel

router = APIRouter(prefix="/api/v1/escalation-policies", tags=["escalation policies"])


class EscalationPolicyPublic(EscalationPolicyModel):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class EscalationPoliciesPublic(BaseModel):
    data: list[EscalationPolicyPublic]
    count: int


def to_public(row: tables.EscalationPolicy) -> EscalationPolicyPublic:
    shape = EscalationPolicyModel.from_domain(store.to_policy(row)).model_dump()
    return EscalationPolicyPublic.model_validate(
        {**shape, "id": row.id, "created_at": row.created_at, "updated_at": row.updated_at}
    )


def _load(session: SessionDep, policy_id: uuid.UUID) -> tables.EscalationPolicy:
    row = store.get_policy(session, policy_id)
    if row is None:
        raise not_found(f"escalation policy {policy_id} not found")
    return row


def _check_targets(session: SessionDep, policy: rules.EscalationPolicy) -> None:
    problems = store.unknown_targets(session, policy)
    if problems:
        path, message = problems[0]
        location = tuple(int(p) if p.isdigit() else p for p in path.split("."))
        raise field_error(location, message)


def _save(session: SessionDep, row: tables.EscalationPolicy) -> None:
    commit_unique(session, row, "name", f"a policy named {row.name!r} already exists")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EscalationPolicyPublic)
def create_policy(
    body: EscalationPolicyModel, session: SessionDep, _: AdminDep
) -> EscalationPolicyPublic:
    policy = body.to_domain()
    _check_targets(session, policy)
    row = store.new_policy(policy)
    session.add(row)
    _save(session, row)
    return to_public(row)


@router.get("", response_model=EscalationPoliciesPublic)
def list_policies(session: SessionDep, _: ViewerDep) -> EscalationPoliciesPublic:
    data = [to_public(row) for row in store.all_policies(session)]
    return EscalationPoliciesPublic(data=data, count=len(data))


@router.get("/{policy_id}", response_model=EscalationPolicyPublic)
def get_policy(policy_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> EscalationPolicyPublic:
    return to_public(_load(session, policy_id))


@router.put("/{policy_id}", response_model=EscalationPolicyPublic)
def update_policy(
    policy_id: uuid.UUID, body: EscalationPolicyModel, session: SessionDep, _: AdminDep
) -> EscalationPolicyPublic:
    row = _load(session, policy_id)
    policy = body.to_domain()
    _check_targets(session, policy)
    store.replace_policy(row, policy)
    _save(session, row)
    return to_public(row)


@router.delete("/{policy_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
def delete_policy(policy_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    try:
        store.delete_policy(session, policy_id)
    except store.PolicyNotFound as error:
        raise not_found(str(error)) from error
    except store.PolicyInUse as error:
        raise conflict(str(error), services=error.services) from error
