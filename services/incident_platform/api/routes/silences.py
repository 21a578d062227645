"""Alertmanager API v2 silences, so ``amtool silence add|query|expire`` works unchanged."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from incident_platform.alert.ingest import release_silenced
from incident_platform.api.deps import EngineDep, ResponderDep, SessionDep, ViewerDep
from incident_platform.api.errors import not_found, query_error
from incident_platform.api.openapi import ErrorDetail, json_answer
from incident_platform.clock import utc_now
from incident_platform.silence.models import (
    GettableSilence,
    MatcherModel,
    PostableSilence,
    SilenceCreated,
    SilenceStatus,
)
from incident_platform.silence.rules import Matcher, parse_filter, silence_matches_filter, state_of
from incident_platform.silence.store import (
    SilenceNotFound,
    expire_silence,
    get_silence,
    list_silences,
    rule_of,
    save_silence,
)
from incident_platform.silence.tables import Silence
from incident_platform.storable import StorableStr

router = APIRouter(prefix="/api/v2", tags=["silences"])


def _gettable(silence: Silence) -> GettableSilence:
    return GettableSilence(
        id=silence.id,
        status=SilenceStatus(state=state_of(silence.starts_at, silence.ends_at, utc_now())),
        updatedAt=silence.updated_at,
        matchers=[MatcherModel.model_validate(matcher) for matcher in silence.matchers],
        startsAt=silence.starts_at,
        endsAt=silence.ends_at,
        createdBy=silence.created_by,
        comment=silence.comment,
    )


@router.get("/silences", response_model=list[GettableSilence])
def get_silences(
    session: SessionDep,
    _: ViewerDep,
    filter_: Annotated[
        list[StorableStr] | None,
        Query(alias="filter", description='Matchers on the silences\' matchers: name="value"'),
    ] = None,
) -> list[GettableSilence]:
    filters: list[Matcher] = []
    for text in filter_ or []:
        try:
            filters.append(parse_filter(text))
        except ValueError as error:
            raise query_error("filter", str(error)) from error
    return [
        _gettable(silence)
        for silence in list_silences(session)
        if silence_matches_filter(rule_of(silence), filters)
    ]


@router.post(
    "/silences",
    response_model=SilenceCreated,
    responses={404: json_answer(ErrorDetail, "No silence has the given id")},
)
async def post_silence(
    body: PostableSilence, session: SessionDep, engine: EngineDep, _: ResponderDep
) -> SilenceCreated:
    """Create a silence, or change the one ``id`` names; its muted alerts are re-decided."""
    silence = await run_in_threadpool(_save, session, body)
    if body.id is not None:
        await run_in_threadpool(release_silenced, engine, [silence.id])
    return SilenceCreated(silenceID=silence.id)


def _save(session: Session, body: PostableSilence) -> Silence:
    try:
        return save_silence(
            session,
            body.id,
            matchers=[matcher.rule() for matcher in body.matchers],
            starts_at=body.startsAt,
            ends_at=body.endsAt,
            created_by=body.createdBy,
            comment=body.comment,
        )
    except SilenceNotFound as error:
        raise not_found(str(error)) from error


@router.get("/silence/{silence_id}", response_model=GettableSilence)
def get_one_silence(silence_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> GettableSilence:
    try:
        return _gettable(get_silence(session, silence_id))
    except SilenceNotFound as error:
        raise not_found(str(error)) from error


@router.delete(
    "/silence/{silence_id}",
    response_class=Response,
    responses={200: {"description": "Expired (an empty body, as Alertmanager answers)"}},
)
def delete_silence(
    silence_id: uuid.UUID, session: SessionDep, engine: EngineDep, _: ResponderDep
) -> Response:
    """Expire the silence now; the alerts it muted that still fire are correlated now."""
    try:
        silence = expire_silence(session, silence_id)
    except SilenceNotFound as error:
        raise not_found(str(error)) from error
    release_silenced(engine, [silence.id])
    return Response(status_code=200)
