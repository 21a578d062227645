"""OnCallSchedule objects synced to the on-call service (the sync itself, shared with
EscalationPolicy objects, is :mod:`incident_operator.oncall_sync`).

Only registered when ``ONCALL_API_TOKEN`` is set (:mod:`incident_operator.oncall`). User
references (e-mail address, else user name) become user ids
(:func:`incident_operator.builders.oncallschedule.schedule_request`).
"""

from __future__ import annotations

from typing import Any

import kopf

from incident_operator.builders.oncall import UnresolvedReferences
from incident_operator.builders.oncallschedule import schedule_request
from incident_operator.crd import ONCALL_SCHEDULES
from incident_operator.oncall import oncall_of
from incident_operator.oncall_sync import OnCallKind, fetch_users, push, remove, report_unresolved

SCHEDULE = OnCallKind("OnCallSchedule", ONCALL_SCHEDULES, "schedules", "schedule")


async def _sync_schedule(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: kopf.Logger, retry: int
) -> None:
    sync = oncall_of(memo)
    users = await fetch_users(body, patch, sync, retry)
    try:
        request = schedule_request(body, users)
    except UnresolvedReferences as error:
        raise report_unresolved(body, patch, sync, error, retry) from error
    await push(SCHEDULE, body, patch, sync, request, logger, retry)


async def oncallschedule_create(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _sync_schedule(body, patch, memo, logger, retry)


async def oncallschedule_update(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _sync_schedule(body, patch, memo, logger, retry)


async def oncallschedule_resume(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    """After a restart: send the same content again (changes nothing if nothing changed)."""
    await _sync_schedule(body, patch, memo, logger, retry)


async def oncallschedule_delete(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await remove(SCHEDULE, body, patch, oncall_of(memo), logger, retry)
