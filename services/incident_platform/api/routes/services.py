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
from incident_platform.escalation import store
from incident_platform.escalation.store import ResolvedTarget
from incident_platform.escalation.tables import ServiceRouting
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
    try:
        routing = store.route_service(session, service, body.escalation_policy_id)
    except store.PolicyNotFound as error:
        raise field_error(
            ("escalation_policy_id",), f"unknown escalation policy {body.escalation_policy_id}"
        ) from error
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
    page = store.first_paged(session, service, utc_now())
    if page is None:
        raise not_found(f"service {service!r} has no escalation policy")
    return FirstPaged(
        service=service,
        escalation_policy={"id": str(page.policy_id), "name": page.policy_name},
        step=1,
        at=page.at,
        targets=[_paged_target(resolved) for resolved in page.targets],
    )


def _paged_target(resolved: ResolvedTarget) -> PagedTarget:
    people = {
        str(r.user_id): r.user_name or "" for r in resolved.recipients if r.user_id is not None
    }
    return PagedTarget(
        target=resolved.description,
        users=[{"id": user_id, "name": name} for user_id, name in people.items()],
        addresses=[{"channel": r.channel, "address": r.address} for r in resolved.recipients],
        problem=resolved.problem,
    )
