"""The sync OnCallSchedule and EscalationPolicy objects share: create or replace in the
on-call service, adoption by name, deletion, and the outcomes in ``status``.

* create / update of the spec / resume after a restart: the caller resolves user references
  (e-mail address, else user name) with ``GET /api/v1/users`` (:func:`fetch_users`) and builds
  the service's JSON; :func:`push` sends it: ``PUT`` to ``status.syncedId`` when there is one,
  else ``POST``. Sending the same content again changes nothing, so a resume simply re-sends it.
* No duplicates: a ``POST`` answered 422 on ``name`` means an object of that name exists
  (typically created by an earlier attempt whose id never reached the status): it is looked up
  by name and adopted (``PUT``), unless another object already syncs to it, which is then a
  ``NameTaken`` failure. A ``PUT`` answered 404 (deleted in the service by hand) creates it
  again.
* Name in the service: ``spec.name``, else ``<namespace>/<metadata.name>``, so objects of two
  namespaces never share (and overwrite) one schedule by accident.
* delete (:func:`remove`): kopf's finalizer holds the object until it is deleted in the
  service (404: already gone). A 409 ("used by escalation policy X") is a
  ``kopf.TemporaryError`` with the service's message in the ``Ready`` condition: deleting
  that policy first unblocks it.

Outcomes, in ``status`` (``phase``, ``Ready`` condition, ``message``, ``observedGeneration``):

* synced -> ``Synced``, ``syncedId``;
* a user that is unknown to the service, or a name that several users share ->
  ``Failed``/``UnresolvedUser`` naming each field (``spec.layers[0].users[1]: no user
  "dave@example.com"``) and a ``kopf.TemporaryError`` after ``ONCALL_UNRESOLVED_RETRY_SECONDS``
  (default 5 minutes). Not a PermanentError: the spec is not wrong, the user just does not
  exist *yet*, and creating a user in the on-call service makes no Kubernetes event, so a
  permanent failure would stay failed until someone edits the object or restarts the
  operator. The long delay keeps it to one ``GET /api/v1/users`` per object and period;
* refused by the service (422 ...) -> ``Failed``/``Rejected`` with its message, a
  ``kopf.PermanentError`` (the next spec change tries again);
* on-call service down -> ``Pending``/``OnCallUnavailable`` and a ``kopf.TemporaryError``
  after ``Retry-After`` or a backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import kopf

from incident_operator.builders.oncall import (
    OnCallPhase,
    UnresolvedReferences,
    oncall_problem_status,
    oncall_synced_status,
    synced_id_claimed_by,
)
from incident_operator.clients.core import PlatformRejected, PlatformUnavailable
from incident_operator.clients.oncall import (
    OnCallCollection,
    OnCallInUse,
    OnCallNameRefused,
    OnCallNotFound,
)
from incident_operator.oncall import OnCallSync


@dataclass(frozen=True)
class OnCallKind:
    kind: str
    plural: str
    collection: OnCallCollection
    noun: str


class NameTaken(kopf.PermanentError):
    """The service's object of that name is already synced from another Kubernetes object."""


def report_unresolved(
    body: kopf.Body,
    patch: kopf.Patch,
    sync: OnCallSync,
    error: UnresolvedReferences,
    retry: int,
) -> kopf.TemporaryError:
    """Status and retry for references that point at nothing yet (see the module docstring):
    only OnCallSchedules still to be synced -> ``Pending`` and a short backoff (the operator
    syncs them itself); any unresolved user -> ``Failed`` and the long delay."""
    message = str(error)
    long_wait = sync.config.oncall_unresolved_retry_seconds
    phase: OnCallPhase
    if error.users:
        phase, reason = "Failed", "UnresolvedUser"
        delay = min(long_wait, sync.backoff(retry)) if error.schedules else long_wait
    else:
        phase, reason, delay = "Pending", "WaitingForSchedule", sync.backoff(retry)
    patch.status.update(oncall_problem_status(body, reason=reason, message=message, phase=phase))
    return kopf.TemporaryError(message, delay=delay)


async def fetch_users(
    body: kopf.Body, patch: kopf.Patch, sync: OnCallSync, retry: int
) -> list[dict[str, Any]]:
    """The on-call service's users, which references are resolved against."""
    try:
        return await sync.client.users(attempt=retry)
    except PlatformUnavailable as error:
        patch.status.update(
            oncall_problem_status(
                body, reason="OnCallUnavailable", message=str(error), phase="Pending"
            )
        )
        raise


async def _adopt(
    kind: OnCallKind,
    body: kopf.Body,
    sync: OnCallSync,
    request: dict[str, Any],
    refused: OnCallNameRefused,
    logger: kopf.Logger,
    retry: int,
) -> dict[str, Any]:
    """``POST`` said the name is taken: take over the existing one unless another object has."""
    name = str(request["name"])
    existing = await sync.client.find_by_name(kind.collection, name, attempt=retry)
    if existing is None:
        raise refused  # the name itself was refused (too long ...), not taken
    existing_id = str(existing["id"])
    owner = synced_id_claimed_by(
        await sync.list_objects(kind.plural, retry=retry), existing_id, body
    )
    if owner is not None:
        raise NameTaken(
            f"a {kind.noun} named {name!r} exists in the on-call service and is synced from"
            f" {kind.kind} {owner}: give this one another spec.name"
        )
    logger.info("adopting the existing %s %r (%s)", kind.noun, name, existing_id)
    try:
        return await sync.client.replace(kind.collection, existing_id, request, attempt=retry)
    except OnCallNotFound as error:
        raise kopf.TemporaryError(
            f"{kind.noun} {name!r} was deleted while being adopted", delay=sync.backoff(retry)
        ) from error


async def push(
    kind: OnCallKind,
    body: kopf.Body,
    patch: kopf.Patch,
    sync: OnCallSync,
    request: dict[str, Any],
    logger: kopf.Logger,
    retry: int,
) -> None:
    """Create or replace the object in the service, and report it in the status."""
    client = sync.client
    synced_id = body.status.get("syncedId")
    try:
        result: dict[str, Any] | None = None
        if synced_id:
            try:
                result = await client.replace(
                    kind.collection, str(synced_id), request, attempt=retry
                )
            except OnCallNotFound:
                logger.warning("%s %s is gone from the on-call service", kind.noun, synced_id)
        if result is None:
            try:
                result = await client.create(kind.collection, request, attempt=retry)
            except OnCallNameRefused as refused:
                result = await _adopt(kind, body, sync, request, refused, logger, retry)
    except NameTaken as error:
        patch.status.update(
            oncall_problem_status(body, reason="NameTaken", message=str(error), phase="Failed")
        )
        raise
    except PlatformRejected as error:
        patch.status.update(
            oncall_problem_status(body, reason="Rejected", message=error.message, phase="Failed")
        )
        raise
    except PlatformUnavailable as error:
        patch.status.update(
            oncall_problem_status(
                body, reason="OnCallUnavailable", message=str(error), phase="Pending"
            )
        )
        raise
    new_id = str(result["id"])
    patch.status.update(oncall_synced_status(body, synced_id=new_id, name=str(request["name"])))
    logger.info("%s %r synced to the on-call service as %s", kind.noun, request["name"], new_id)


async def remove(
    kind: OnCallKind,
    body: kopf.Body,
    patch: kopf.Patch,
    sync: OnCallSync,
    logger: kopf.Logger,
    retry: int,
) -> None:
    """Delete the object in the service before kopf lets the Kubernetes object go."""
    synced_id = body.status.get("syncedId")
    if not synced_id:
        logger.info("this %s never reached the on-call service: nothing to delete", kind.noun)
        return
    try:
        deleted = await sync.client.delete(kind.collection, str(synced_id), attempt=retry)
    except OnCallInUse as error:
        patch.status.update(
            oncall_problem_status(body, reason="InUse", message=error.message, phase=None)
        )
        raise kopf.TemporaryError(error.message, delay=sync.backoff(retry)) from error
    except PlatformUnavailable as error:
        patch.status.update(
            oncall_problem_status(body, reason="OnCallUnavailable", message=str(error), phase=None)
        )
        raise
    except PlatformRejected as error:
        logger.warning(
            "the on-call service refused deleting %s %s: %s", kind.noun, synced_id, error.message
        )
        raise
    if deleted:
        logger.info("%s %s deleted from the on-call service", kind.noun, synced_id)
    else:
        logger.info("%s %s was already gone from the on-call service", kind.noun, synced_id)
