"""Incident objects: people act on incidents by setting ``spec.state``.

``kubectl patch incident inc-42 --type merge -p '{"spec":{"state":"acknowledged"}}'`` makes
:func:`incident_state_changed` call the incident management service. The result shows in the
``Synced`` condition:

* done -> ``True`` ``Acknowledged``/``Resolved``, and the status mirrors the incident at once;
* the incident already is in the requested state (someone else acted; the platform's
  409 says ``repeated``) -> ``True`` ``AlreadyInState``: the request is fulfilled;
* an illegal transition (e.g. acknowledging a resolved incident) -> ``False``
  ``IllegalTransition`` with the service's message. The handler then *returns*: the request
  was delivered and answered, and repeating it would get the same answer, so neither an
  exception nor a retry is wanted;
* any other refusal (unknown incident ...) -> ``False`` ``Rejected`` and a
  ``kopf.PermanentError`` (not retried);
* platform down -> ``False`` ``PlatformUnavailable`` and a ``kopf.TemporaryError`` (retried).

The rest of the status (state, severity, alert count, times ...) is written by the feed
follower (:mod:`incident_operator.feed`) for every incident, whoever changed it.
"""

from __future__ import annotations

from typing import Any

import kopf

from incident_operator.builders.incident import (
    incident_status,
    incident_sync_status,
    incident_transition,
)
from incident_operator.clients.core import (
    IllegalTransition,
    PlatformRejected,
    PlatformUnavailable,
)
from incident_operator.clients.platform import PlatformClient
from incident_operator.models import PlatformIncident
from incident_operator.runtime import runtime_of


async def _carry_out(
    platform: PlatformClient, incident_id: int, requested: str, note: str | None, retry: int
) -> tuple[PlatformIncident, str, str]:
    """Ask for the transition; ``(incident, reason, message)`` once the incident is there."""
    try:
        incident = await platform.transition(
            incident_id, incident_transition(requested), attempt=retry
        )
        reason, message = requested.capitalize(), f"incident {incident_id} is {requested}"
    except IllegalTransition as error:
        if not error.repeated:
            raise
        incident = await platform.incident(incident_id, attempt=retry)
        reason, message = "AlreadyInState", f"incident {incident_id} already is {requested}"
    if note:
        await platform.add_note(incident_id, note, attempt=retry)
    return incident, reason, message


async def incident_state_changed(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    requested = body.spec.get("state")
    incident_id = body.spec.get("incidentId")
    if requested is None or not isinstance(incident_id, int):
        return  # nothing requested (or not a mirror): the object only mirrors the platform
    runtime = runtime_of(memo)
    note = body.spec.get("note")
    try:
        incident, reason, message = await _carry_out(
            runtime.platform, incident_id, str(requested), str(note) if note else None, retry
        )
    except IllegalTransition as error:
        logger.warning("cannot make incident %s %s: %s", incident_id, requested, error.message)
        patch.status.update(
            incident_sync_status(
                body, status="False", reason="IllegalTransition", message=error.message
            )
        )
        return
    except PlatformRejected as error:
        patch.status.update(
            incident_sync_status(body, status="False", reason="Rejected", message=error.message)
        )
        raise
    except PlatformUnavailable as error:
        patch.status.update(
            incident_sync_status(
                body, status="False", reason="PlatformUnavailable", message=str(error)
            )
        )
        raise
    patch.status.update(incident_status(incident, public_url=runtime.config.public_url))
    patch.status.update(incident_sync_status(body, status="True", reason=reason, message=message))
    logger.info(message)
