"""The incident API: list, read, change and move incidents through their lifecycle."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from starlette.concurrency import run_in_threadpool

from incident_platform.api.deps import ResponderDep, SessionDep, ViewerDep
from incident_platform.api.errors import query_error
from incident_platform.api.openapi import CONFLICT
from incident_platform.db import get_engine
from incident_platform.incident.lifecycle import IllegalTransition, IncidentStatus, Transition
from incident_platform.incident.models import (
    IncidentDetail,
    IncidentPublic,
    IncidentsPublic,
    IncidentUpdate,
    NoteCreate,
    TimelineEventPublic,
    incident_detail,
    incident_public,
    public_fields,
    public_json,
)
from incident_platform.incident.store import (
    IncidentFilter,
    IncidentNotFound,
    ServiceAlreadyOpen,
    add_note,
    get_incident,
    incident_alerts,
    incident_timeline,
    list_incidents,
    transition,
    update_incident,
)
from incident_platform.paging import InvalidCursor
from incident_platform.severity import Severity
from incident_platform.storable import MAX_BIGINT, DatabaseId, StorableStr

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

IncidentId = Annotated[DatabaseId, Path()]


def _not_found(error: IncidentNotFound) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error))


@router.get("", response_model=IncidentsPublic)
async def get_incidents(
    _: ViewerDep,
    status_: Annotated[IncidentStatus | None, Query(alias="status")] = None,
    service: StorableStr | None = None,
    severity: Severity | None = None,
    changed_after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_BIGINT,
            description="Change feed: incidents changed after this change_seq, oldest first",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: StorableStr | None = None,
) -> Response:
    # The busiest read (every UI poll, the operator's change feed): one thread-pool hop for
    # the whole page instead of one each for the session, the endpoint and the response
    # check, and the JSON written from plain rows (_page_json).
    filters = IncidentFilter(
        status=status_, service=service, severity=severity, changed_after=changed_after
    )
    try:
        body = await run_in_threadpool(_page_json, filters, limit, cursor)
    except InvalidCursor as error:
        raise query_error("cursor", str(error)) from error
    return Response(body, media_type="application/json")


def _page_json(filters: IncidentFilter, limit: int, cursor: str | None) -> bytes:
    """The page as ``IncidentsPublic`` JSON (the declared response model), built from rows:
    the values are the model's, so validating them again would only cost time."""
    with get_engine().connect() as connection:
        rows, next_cursor = list_incidents(connection, filters, limit=limit, cursor=cursor)
    data = [public_fields(row) for row in rows]
    return public_json({"data": data, "count": len(data), "next_cursor": next_cursor})


@router.get("/{incident_id}", response_model=IncidentDetail)
def get_incident_detail(
    incident_id: IncidentId, session: SessionDep, _: ViewerDep
) -> IncidentDetail:
    try:
        incident = get_incident(session, incident_id)
    except IncidentNotFound as error:
        raise _not_found(error) from error
    return incident_detail(
        incident, incident_alerts(session, incident_id), incident_timeline(session, incident_id)
    )


def _transition(
    session: SessionDep, incident_id: IncidentId, action: Transition, actor: str
) -> IncidentPublic:
    try:
        return incident_public(transition(session, incident_id, action, actor=actor))
    except IncidentNotFound as error:
        raise _not_found(error) from error
    except IllegalTransition as error:
        # ``repeated``: the incident already is where the transition leads (lifecycle.is_repeated).
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            {"message": str(error), "status": error.current.value, "repeated": error.repeated},
        ) from error
    except ServiceAlreadyOpen as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            {"message": str(error), "open_incident_id": error.open_incident_id},
        ) from error


_CONFLICT = CONFLICT


@router.post("/{incident_id}/acknowledge", response_model=IncidentPublic, responses=_CONFLICT)
def acknowledge(incident_id: IncidentId, session: SessionDep, who: ResponderDep) -> IncidentPublic:
    return _transition(session, incident_id, Transition.ACKNOWLEDGE, who.name)


@router.post("/{incident_id}/resolve", response_model=IncidentPublic, responses=_CONFLICT)
def resolve(incident_id: IncidentId, session: SessionDep, who: ResponderDep) -> IncidentPublic:
    return _transition(session, incident_id, Transition.RESOLVE, who.name)


@router.post("/{incident_id}/reopen", response_model=IncidentPublic, responses=_CONFLICT)
def reopen(incident_id: IncidentId, session: SessionDep, who: ResponderDep) -> IncidentPublic:
    return _transition(session, incident_id, Transition.REOPEN, who.name)


@router.post(
    "/{incident_id}/notes", status_code=status.HTTP_201_CREATED, response_model=TimelineEventPublic
)
def post_note(
    incident_id: IncidentId, body: NoteCreate, session: SessionDep, who: ResponderDep
) -> TimelineEventPublic:
    try:
        event = add_note(session, incident_id, body.text, actor=who.name)
    except IncidentNotFound as error:
        raise _not_found(error) from error
    return TimelineEventPublic.model_validate(event, from_attributes=True)


@router.patch("/{incident_id}", response_model=IncidentPublic)
def patch_incident(
    incident_id: IncidentId, body: IncidentUpdate, session: SessionDep, who: ResponderDep
) -> IncidentPublic:
    try:
        return incident_public(
            update_incident(
                session, incident_id, body.model_dump(exclude_unset=True), actor=who.name
            )
        )
    except IncidentNotFound as error:
        raise _not_found(error) from error
