"""On-call as code: EscalationPolicy objects synced to the on-call service.

The same sync as OnCallSchedule objects (:mod:`incident_operator.oncall_sync`: create or
``PUT`` to ``status.syncedId``, adoption by name, name ``spec.name`` else
``<namespace>/<metadata.name>``, the same outcomes in ``status``), with two differences:

* ``steps[].delayMinutes`` becomes ``delay_minutes`` and each target's ``name`` becomes an
  ``id``: a user target's user (e-mail address, else user name), a schedule target's
  OnCallSchedule *in the same namespace*, read through the Kubernetes API for its
  ``status.syncedId``. No such object yet, or not synced yet -> ``Pending``/
  ``WaitingForSchedule`` and a ``kopf.TemporaryError`` with a short backoff: the operator is
  about to sync it (``kubectl apply -f examples/`` creates the policy first, alphabetically).
* delete: a 409 (a service is routed to the policy) holds the object, with the message in the
  ``Ready`` condition, until that routing changes.
"""

from __future__ import annotations

from typing import Any

import kopf

from incident_operator.builders.escalationpolicy import policy_request, policy_schedule_references
from incident_operator.builders.oncall import UnresolvedReferences
from incident_operator.crd import ESCALATION_POLICIES, ONCALL_SCHEDULES
from incident_operator.oncall import OnCallSync, oncall_of
from incident_operator.oncall_sync import OnCallKind, fetch_users, push, remove, report_unresolved

POLICY = OnCallKind("EscalationPolicy", ESCALATION_POLICIES, "escalation-policies", "policy")


async def schedule_ids(body: kopf.Body, sync: OnCallSync, retry: int) -> dict[str, str | None]:
    """``{OnCallSchedule name: status.syncedId or None}`` for the schedules the policy names
    that exist in its namespace (a missing one is left out)."""
    namespace = str(body.metadata.namespace or "default")
    found: dict[str, str | None] = {}
    for _, name in policy_schedule_references(body):
        if name in found:
            continue
        obj = await sync.get_object(ONCALL_SCHEDULES, namespace, name, retry=retry)
        if obj is not None:
            synced_id = (obj.get("status") or {}).get("syncedId")
            found[name] = str(synced_id) if synced_id else None
    return found


async def _sync_policy(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: kopf.Logger, retry: int
) -> None:
    sync = oncall_of(memo)
    users = await fetch_users(body, patch, sync, retry)
    try:
        request = policy_request(body, users, await schedule_ids(body, sync, retry))
    except UnresolvedReferences as error:
        raise report_unresolved(body, patch, sync, error, retry) from error
    await push(POLICY, body, patch, sync, request, logger, retry)


async def escalationpolicy_create(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _sync_policy(body, patch, memo, logger, retry)


async def escalationpolicy_update(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _sync_policy(body, patch, memo, logger, retry)


async def escalationpolicy_resume(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    """After a restart: send the same content again (changes nothing if nothing changed)."""
    await _sync_policy(body, patch, memo, logger, retry)


async def escalationpolicy_delete(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await remove(POLICY, body, patch, oncall_of(memo), logger, retry)
