import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from incident_platform.api.deps import AdminDep, SessionDep, ViewerDep
from incident_platform.api.errors import field_error, not_found
from incident_platform.api.openapi import ErrorDetail, json_answer
from incident_platform.clock import utc_now
from incident_platform.escalation.store import TargetResolver, policy_for_service, to_policy
from incident_platform.escalation.tables import EscalationPolicyRow, ServiceRouting
from incident_platform.storable import StorableStr

router = APIRouter(tags=["services"])

ServiceName = Annotated[StorableStr, Path(min_length=1, max_length=255)]


class RoutingUpdate(BaseModel):
    escalation_policy_id: uuid.UUID


class RoutingPublic(BaseModel):
    service: str
    escalation_policy_id: uuid.UUID
    updated_at: datetime


class RoutingsPublic(BaseModel):
    data: list[RoutingPublic]
    count: int


class PagedTarget(BaseModel):
    target: str
    users: list[dict[str, str]]
    addresses: list[dict[str, str]]
    problem: str | None


class FirstPaged(BaseModel):
    service: str
    escalation_policy: dict[str, str]
    step: int
    at: datetime
    targets: list[PagedTarget]


@router.get("/api/v1/services", response_model=RoutingsPublic)
def list_routing(session: SessionDep, _: ViewerDep) -> RoutingsPublic:
    """Every routed service and its escalation policy, by service name."""
    rows = session.execute(select(ServiceRouting).order_by(col(ServiceRouting.service))).scalars()
    data = [RoutingPublic.model_validate(row, from_attributes=True) for row in rows]
    return RoutingsPublic(data=data, count=len(data))


@router.put("/api/v1/services/{service}", response_model=RoutingPublic)
def route_service(
    service: ServiceName, body: RoutingUpdate, session: SessionDep, _: AdminDep
) -> RoutingPublic:
    if session.get(EscalationPolicyRow, body.escalation_policy_id) is None:
        raise field_error(
            ("escalation_policy_id",), f"unknown escalation policy {body.escalation_policy_id}"
        )
    routing = session.get(ServiceRouting, service)
    if routing is None:
        routing = ServiceRouting(service=service, escalation_policy_id=body.escalation_policy_id)
        session.add(routing)
    else:
        routing.escalation_policy_id = body.escalation_policy_id
        routing.updated_at = utc_now()
    session.commit()
    session.refresh(routing)
    return RoutingPublic.model_validate(routing, from_attributes=True)


@router.get("/api/v1/services/{service}", response_model=RoutingPublic)
def get_routing(service: ServiceName, session: SessionDep, _: ViewerDep) -> RoutingPublic:
    routing = session.get(ServiceRouting, service)
    if routing is None:
        raise not_found(f"service {service!r} has no escalation policy")
    return RoutingPublic.model_validate(routing, from_attributes=True)


@router.get(
    "/api/v1/oncall",
    response_model=FirstPaged,
    tags=["services"],
    responses={404: json_answer(ErrorDetail, "The service has no escalation policy")},
)
def first_paged(
    service: Annotated[StorableStr, Query(min_length=1, max_length=255)],
    session: SessionDep,
    _: ViewerDep,
) -> FirstPaged:
    """Who an incident of ``service`` would page first, right now."""
    row = policy_for_service(session, service)
    if row is None:
        raise not_found(f"service {service!r} has no escalation policy")
    policy = to_policy(row)
    now = utc_now()
    resolver = TargetResolver(session, now)
    targets = []
    for target in policy.steps[0].targets:
        resolved = resolver.resolve(target)
        people = {
            str(r.user_id): r.user_name or "" for r in resolved.recipients if r.user_id is not None
        }
        targets.append(
            PagedTarget(
                target=resolved.description,
                users=[{"id": uid, "name": name} for uid, name in people.items()],
                addresses=[
                    {"channel": r.channel, "address": r.address} for r in resolved.recipients
                ],
                problem=resolved.problem,
            )
        )
    return FirstPaged(
        service=service,
        escalation_policy={"id": str(row.id), "name": row.name},
        step=1,
        at=now,
        targets=targets,
    )
