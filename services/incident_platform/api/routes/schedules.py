import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel

from incident_platform.api.deps import (
    CREDENTIAL_OF,
    AdminDep,
    EngineDep,
    ResponderDep,
    SessionDep,
    SettingsDep,
    ViewerDep,
    authenticate,
    bearer_credential,
    check_role,
)
from incident_platform.api.errors import (
    commit_unique,
    conflict,
    field_error,
    not_found,
    query_error,
)
from incident_platform.api.openapi import CONFLICT
from incident_platform.auth.rules import Principal, Role
from incident_platform.clock import utc_now
from incident_platform.escalation.store import policies_targeting
from incident_platform.schedule import rules, store, tables
from incident_platform.schedule.ical import schedule_to_ics
from incident_platform.schedule.models import OverrideModel, ScheduleModel
from incident_platform.schedule.rules import oncall_at, render_shifts
from incident_platform.schedule.store import (
    ScheduleNotFound,
    get_schedule,
    missing_users,
    overrides_around,
    overrides_between,
    to_domain,
    unknown_layer_users,
    user_names,
)
from incident_platform.storable import AwareInstant, DatabaseId

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])

# Rendering is cheap, but an unbounded range is a denial of service waiting to happen.
MAX_RANGE = timedelta(days=366)
ICS_PAST = timedelta(days=30)
ICS_FUTURE = timedelta(days=180)


class SchedulePublic(ScheduleModel):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class SchedulesPublic(BaseModel):
    data: list[SchedulePublic]
    count: int


class UserRef(BaseModel):
    id: str
    name: str


class OnCallPublic(BaseModel):
    user: UserRef | None
    layer: str | None = None
    shift_start: datetime | None = None
    shift_end: datetime | None = None


class ShiftPublic(BaseModel):
    user: UserRef
    layer: str
    start: datetime
    end: datetime


class ShiftsPublic(BaseModel):
    data: list[ShiftPublic]
    count: int


class OverridePublic(BaseModel):
    id: int
    user: str
    start: datetime
    end: datetime
    created_at: datetime


class OverridesPublic(BaseModel):
    data: list[OverridePublic]
    count: int


def to_public(row: tables.Schedule) -> SchedulePublic:
    shape = ScheduleModel.from_domain(to_domain(row)).model_dump()
    return SchedulePublic.model_validate(
        {**shape, "id": row.id, "created_at": row.created_at, "updated_at": row.updated_at}
    )


def _load(session: SessionDep, schedule_id: uuid.UUID) -> tables.Schedule:
    try:
        return get_schedule(session, schedule_id)
    except ScheduleNotFound as error:
        raise not_found(str(error)) from error


def _check_users(session: SessionDep, schedule: rules.Schedule) -> None:
    unknown = unknown_layer_users(session, schedule)
    if unknown:
        path, user_id = unknown[0]
        raise field_error(tuple(_path(path)), f"unknown user {user_id}")


def _path(dotted: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in dotted.split(".")]


def _save(session: SessionDep, row: tables.Schedule) -> None:
    commit_unique(session, row, "name", f"a schedule named {row.name!r} already exists")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SchedulePublic)
def create_schedule(body: ScheduleModel, session: SessionDep, _: AdminDep) -> SchedulePublic:
    schedule = body.to_domain()
    _check_users(session, schedule)
    row = store.new_schedule(schedule)
    session.add(row)
    _save(session, row)
    return to_public(row)


@router.get("", response_model=SchedulesPublic)
def list_schedules(session: SessionDep, _: ViewerDep) -> SchedulesPublic:
    data = [to_public(row) for row in store.all_schedules(session)]
    return SchedulesPublic(data=data, count=len(data))


async def _calendar_reader(request: Request, settings: SettingsDep, engine: EngineDep) -> Principal:
    """Calendar apps cannot send headers: a viewer token may come as ``?token=``."""
    token = request.query_params.get("token")
    credential = token if token is not None else bearer_credential(request)
    return check_role(await authenticate(credential, settings, engine), Role.VIEWER)


CREDENTIAL_OF[_calendar_reader] = Role.VIEWER.value


@router.get(
    "/{schedule_id}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
    summary="The schedule as an iCalendar feed (30 days back, 180 days ahead)",
)
def schedule_calendar(
    schedule_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(_calendar_reader)],
) -> Response:
    row = _load(session, schedule_id)
    now = utc_now()
    start, end = now - ICS_PAST, now + ICS_FUTURE
    shifts = render_shifts(
        to_domain(row), overrides_between(session, row.id, start, end), start, end
    )
    names = user_names(session, [shift.user for shift in shifts])
    return Response(
        schedule_to_ics(row.name, shifts, names, generated_at=now),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{row.name}.ics"'},
    )


@router.get("/{schedule_id}", response_model=SchedulePublic)
def get_schedule_detail(
    schedule_id: uuid.UUID, session: SessionDep, _: ViewerDep
) -> SchedulePublic:
    return to_public(_load(session, schedule_id))


@router.put("/{schedule_id}", response_model=SchedulePublic)
def update_schedule(
    schedule_id: uuid.UUID, body: ScheduleModel, session: SessionDep, _: AdminDep
) -> SchedulePublic:
    row = _load(session, schedule_id)
    schedule = body.to_domain()
    _check_users(session, schedule)
    store.replace_schedule(row, schedule)
    _save(session, row)
    return to_public(row)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
def delete_schedule(schedule_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    row = _load(session, schedule_id)
    policies = policies_targeting(session, "schedule", schedule_id)
    if policies:
        raise conflict(
            f"schedule {row.name!r} is used by escalation policy {', '.join(policies)}",
            escalation_policies=policies,
        )
    session.delete(row)
    session.commit()


@router.get("/{schedule_id}/oncall", response_model=OnCallPublic)
def who_is_on_call(
    schedule_id: uuid.UUID,
    session: SessionDep,
    _: ViewerDep,
    at: Annotated[
        AwareInstant | None,
        Query(description="ISO 8601 with offset, 1970-01-01 to 2200-01-01; default now"),
    ] = None,
) -> OnCallPublic:
    row = _load(session, schedule_id)
    instant = at or utc_now()
    overrides = overrides_around(session, row.id, instant)
    found = oncall_at(to_domain(row), overrides, instant)
    if found is None:
        return OnCallPublic(user=None)
    names = user_names(session, [found.user])
    return OnCallPublic(
        user=UserRef(id=found.user, name=names.get(found.user, found.user)),
        layer=found.layer,
        shift_start=found.shift_start,
        shift_end=found.shift_end,
    )


@router.get("/{schedule_id}/shifts", response_model=ShiftsPublic)
def shifts(
    schedule_id: uuid.UUID,
    session: SessionDep,
    _: ViewerDep,
    from_: Annotated[AwareInstant, Query(alias="from")],
    to: AwareInstant,
) -> ShiftsPublic:
    if to <= from_:
        raise query_error("to", "must be after from")
    if to - from_ > MAX_RANGE:
        raise query_error("to", "range longer than 366 days")
    row = _load(session, schedule_id)
    rendered = render_shifts(
        to_domain(row), overrides_between(session, row.id, from_, to), from_, to
    )
    names = user_names(session, [shift.user for shift in rendered])
    data = [
        ShiftPublic(
            user=UserRef(id=shift.user, name=names.get(shift.user, shift.user)),
            layer=shift.layer,
            start=shift.start,
            end=shift.end,
        )
        for shift in rendered
    ]
    return ShiftsPublic(data=data, count=len(data))


def _override_public(row: tables.Override) -> OverridePublic:
    return OverridePublic(
        id=row.id or 0,
        user=str(row.user_id),
        start=row.start_at,
        end=row.end_at,
        created_at=row.created_at,
    )


@router.post(
    "/{schedule_id}/overrides", status_code=status.HTTP_201_CREATED, response_model=OverridePublic
)
def create_override(
    schedule_id: uuid.UUID, body: OverrideModel, session: SessionDep, _: ResponderDep
) -> OverridePublic:
    _load(session, schedule_id)
    if missing_users(session, [body.user]):
        raise field_error(("user",), f"unknown user {body.user}")
    # The store assigns the creation order (the row id) that ranks overlapping overrides.
    row = store.add_override(session, schedule_id, body.to_domain(sequence=0))
    return _override_public(row)


@router.get("/{schedule_id}/overrides", response_model=OverridesPublic)
def list_overrides(schedule_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> OverridesPublic:
    _load(session, schedule_id)
    data = [_override_public(row) for row in store.schedule_overrides(session, schedule_id)]
    return OverridesPublic(data=data, count=len(data))


@router.delete("/{schedule_id}/overrides/{override_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_override(
    schedule_id: uuid.UUID,
    override_id: Annotated[DatabaseId, Path()],
    session: SessionDep,
    _: ResponderDep,
) -> None:
    if not store.delete_override(session, schedule_id, override_id):
        raise not_found(f"override {override_id} not found in schedule {schedule_id}")
