from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from incident_platform.api.deps import SessionDep, SettingsDep
from incident_platform.api.openapi import json_answer
from incident_platform.clock import utc_now
from incident_platform.incident.lifecycle import IllegalTransition, Transition
from incident_platform.incident.store import IncidentNotFound, transition
from incident_platform.notification.signing import (
    AckKeyMissing,
    InvalidAckToken,
    ack_key,
    verify_ack_token,
)

router = APIRouter(prefix="/api/v1/ack", tags=["acknowledge links"])


class AckAnswer(BaseModel):
    message: str
    incident_id: int | None = None
    status: str | None = None


def _answer_doc(description: str) -> dict[str, Any]:
    answer = json_answer(AckAnswer, description)
    answer["content"]["text/html"] = {"schema": {"type": "string"}}
    return answer


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: _answer_doc("Acknowledged (or already acknowledged)"),
    403: _answer_doc("The link is forged, altered or expired"),
    404: _answer_doc("The incident no longer exists"),
    409: _answer_doc("The incident is resolved; nothing to acknowledge"),
    503: _answer_doc("Acknowledge links are not configured, or the database is unavailable"),
}


def _answer(request: Request, status_code: int, message: str, **data: object) -> Response:
    if "text/html" in request.headers.get("accept", ""):
        page = (
            "<!doctype html><meta charset=utf-8><title>Incident platform</title>"
            f"<p>{escape(message)}</p>"
        )
        return HTMLResponse(page, status_code=status_code)
    return JSONResponse({"message": message, **data}, status_code=status_code)


# Two decorators, not one api_route with a set of methods: each method gets its own
# operationId, and the OpenAPI document is the same on every run (set order is not).
_ROUTE: dict[str, Any] = {
    "summary": "Acknowledge from a signed link",
    "response_class": Response,
    "responses": _ANSWERS,
    "openapi_extra": {"x-required-credential": "ack-link"},
}


@router.get("/{token}", **_ROUTE)
@router.post("/{token}", **_ROUTE)
def acknowledge_by_link(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The link in every notification: acknowledges its one incident without a login.

    The token is an HMAC over the incident id and an expiry; it cannot be widened to
    another incident. Acknowledging twice is fine: the second answer says so.
    """
    try:
        key = ack_key(settings)
    except AckKeyMissing:
        return _answer(request, 503, "acknowledge links are not configured")
    try:
        incident_id = verify_ack_token(token, key, utc_now())
    except InvalidAckToken as error:
        return _answer(request, 403, f"this acknowledge link is not valid: {error}")
    try:
        incident = transition(session, incident_id, Transition.ACKNOWLEDGE, actor="ack-link")
    except IncidentNotFound:
        return _answer(request, 404, f"incident {incident_id} no longer exists")
    except IllegalTransition as error:
        session.rollback()
        # A repeated acknowledgement (lifecycle.is_repeated) is a success; others are not.
        return _answer(
            request,
            200 if error.repeated else 409,
            f"incident #{incident_id} is already {error.current.value}",
            incident_id=incident_id,
            status=error.current.value,
        )
    return _answer(
        request,
        200,
        f"incident #{incident_id} ({incident.title}) acknowledged",
        incident_id=incident_id,
        status=incident.status,
    )
