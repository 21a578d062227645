from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from incident_platform.api.deps import SessionDep, SettingsDep
from incident_platform.clock import utc_now
from incident_platform.incident.lifecycle import IllegalTransition, Transition
from incident_platform.incident.store import IncidentNotFound, get_incident, transition
from incident_platform.notification.signing import InvalidAckToken, verify_ack_token

router = APIRouter(prefix="/api/v1/ack", tags=["acknowledge links"])


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
@router.get("/{token}", summary="Acknowledge from a signed link")
@router.post("/{token}", summary="Acknowledge from a signed link")
def acknowledge_by_link(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The link in every notification: acknowledges its one incident without a login.

    The token is an HMAC over the incident id and an expiry; it cannot be widened to
    another incident. Acknowledging twice is fine: the second answer says so.
    """
    if settings.ack_signing_key is None:
        return _answer(request, 503, "acknowledge links are not configured")
    key = settings.ack_signing_key.get_secret_value().encode()
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
        current = get_incident(session, incident_id)
        return _answer(
            request,
            200 if current.status == "acknowledged" else 409,
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
