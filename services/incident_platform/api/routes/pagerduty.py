import contextlib
import json
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from incident_platform.alert.batching import batcher_for
from incident_platform.alert.pagerduty import (
    Event,
    EventAction,
    error_messages,
    fingerprint_of,
    new_dedup_key,
    to_signal,
)
from incident_platform.api.deps import EngineDep, SessionDep, SettingsDep
from incident_platform.api.openapi import json_answer, ref
from incident_platform.auth.rules import IntegrationKind
from incident_platform.auth.store import find_integration
from incident_platform.incident.lifecycle import IllegalTransition
from incident_platform.incident.store import acknowledge_by_fingerprint

router = APIRouter(tags=["pagerduty"])


class PagerDutyAccepted(BaseModel):
    status: str
    message: str
    dedup_key: str


class PagerDutyInvalid(BaseModel):
    """PagerDuty's error shape: every error is a sentence naming its field."""

    status: str
    message: str
    errors: list[str]


def _invalid(message: str, errors: list[str]) -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": message, "errors": errors},
        status_code=status.HTTP_400_BAD_REQUEST,
    )


@router.post(
    "/v2/enqueue",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        202: json_answer(PagerDutyAccepted, "Event processed"),
        400: json_answer(PagerDutyInvalid, "Invalid event, in PagerDuty's error shape"),
    },
    # The body is read by hand (errors in PagerDuty's shape, not FastAPI's), so its
    # schema is declared here; the credential is ``routing_key`` inside it.
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref(Event)}}},
        "x-required-credential": "integration:pagerduty",
    },
)
async def enqueue(
    request: Request, engine: EngineDep, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """PagerDuty Events API v2: trigger, acknowledge or resolve by ``dedup_key``."""
    try:
        document: Any = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return _invalid("Event object is invalid", [f"body: not valid JSON ({error})"])
    try:
        event = Event.model_validate(document)
    except ValidationError as error:
        return _invalid("Event object is invalid", error_messages(error))
    integration = await run_in_threadpool(
        find_integration, engine, event.routing_key, ttl=settings.credential_cache_seconds
    )
    if integration is None or integration.kind is not IntegrationKind.PAGERDUTY:
        return _invalid("Event object is invalid", ["routing_key: invalid routing key"])
    dedup_key = event.dedup_key or new_dedup_key()
    actor = f"integration:{integration.name}"
    if event.event_action is EventAction.ACKNOWLEDGE:
        # Resolved meanwhile: PagerDuty accepts an event it cannot apply and drops it.
        with contextlib.suppress(IllegalTransition):
            await run_in_threadpool(
                acknowledge_by_fingerprint, session, fingerprint_of(dedup_key), actor=actor
            )
    else:
        await batcher_for(engine, settings).submit(
            [to_signal(event, dedup_key, integration)],
            source="pagerduty",
            actor=actor,
            auto_resolve=settings.auto_resolve,
        )
    return JSONResponse(
        {"status": "success", "message": "Event processed", "dedup_key": dedup_key},
        status_code=status.HTTP_202_ACCEPTED,
    )
