"""Silence objects: planned maintenance kept in Git, synced to the platform's silences.

The platform's silences are Alertmanager API v2's, on the alert ingestion service
(``/api/v2/silences``), written with the responder token (``PLATFORM_API_TOKEN``).

* create / update of the spec / resume after a restart: ``POST /api/v2/silences`` with the
  silence built from the spec (:func:`incident_operator.builders.silence.silence_request`),
  carrying ``status.silenceID`` when there is one so the same silence is changed, never a
  second one made; a stored id the platform no longer knows (404) creates it again;
* delete: kopf's finalizer holds the object until ``DELETE /api/v2/silence/{id}`` has expired
  the silence (404: already gone); the alerts it muted that still fire are correlated then;
* every ``SILENCE_REFRESH_SECONDS`` a timer reads the silence back and writes
  ``status.state`` (``pending``, ``active``, ``expired``) when it changed, so ``kubectl get
  silences`` shows a window that began or ended, or an ``amtool silence expire``.

Outcomes: synced -> ``status.silenceID`` and ``state``, ``Ready`` True; refused by the
platform (4xx: a bad regex, an end before the start ...) -> ``Ready`` False ``Rejected`` with
the platform's message and a ``kopf.PermanentError`` (the next spec change tries again); a
spec that cannot become a silence -> ``InvalidSpec``, permanent too; platform down ->
``Ready`` False ``PlatformUnavailable`` and a ``kopf.TemporaryError`` (Retry-After or backoff).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf

from incident_operator.builders.silence import (
    silence_failure_status,
    silence_request,
    silence_state,
    silence_status,
    silence_window,
)
from incident_operator.clients.core import PlatformRejected, PlatformUnavailable
from incident_operator.runtime import runtime_of


async def _sync(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: kopf.Logger, retry: int
) -> None:
    platform = runtime_of(memo).platform
    stored = body.status.get("silenceID")
    now = datetime.now(UTC)
    try:
        starts, ends = silence_window(body, now=now)
        request = silence_request(body, silence_id=str(stored) if stored else None, now=now)
    except ValueError as error:
        patch.status.update(silence_failure_status(body, str(error), reason="InvalidSpec"))
        raise kopf.PermanentError(str(error)) from error
    try:
        try:
            silence_id = await platform.put_silence(request, attempt=retry)
        except PlatformRejected as error:
            if not stored or error.status_code != 404:
                raise
            logger.warning("silence %s is gone from the platform: creating it again", stored)
            request.pop("id")
            silence_id = await platform.put_silence(request, attempt=retry)
    except PlatformRejected as error:
        patch.status.update(silence_failure_status(body, error.message, reason="Rejected"))
        raise
    except PlatformUnavailable as error:
        patch.status.update(silence_failure_status(body, str(error), reason="PlatformUnavailable"))
        raise
    state = silence_state(starts, ends, datetime.now(UTC))
    patch.status.update(
        silence_status(body, silence_id=silence_id, state=state, starts=starts, ends=ends)
    )
    logger.info("silence %s is %s until %s", silence_id, state, ends.isoformat())


async def silence_create(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _sync(body, patch, memo, logger, retry)


async def silence_update(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _sync(body, patch, memo, logger, retry)


async def silence_resume(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    """After a restart: send the same silence again (with its id: changes nothing new)."""
    await _sync(body, patch, memo, logger, retry)


async def silence_delete(
    body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, retry: int = 0, **_: Any
) -> None:
    """Expire the silence on the platform before kopf lets the object go."""
    silence_id = body.status.get("silenceID")
    if not silence_id:
        logger.info("this silence never reached the platform: nothing to expire")
        return
    platform = runtime_of(memo).platform
    try:
        expired = await platform.expire_silence(str(silence_id), attempt=retry)
    except PlatformRejected as error:
        # Holding the object forever would not make the platform accept it.
        logger.warning("platform refused expiring silence %s: %s", silence_id, error.message)
        return
    if expired:
        logger.info("silence %s expired on the platform", silence_id)
    else:
        logger.info("silence %s was already gone from the platform", silence_id)


async def silence_refresh(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    """The timer: the platform's ``state`` of the silence into ``status.state``."""
    silence_id = body.status.get("silenceID")
    if not silence_id:
        return  # not synced (yet): the create handler writes the first status
    try:
        silence = await runtime_of(memo).platform.silence(str(silence_id))
    except (PlatformUnavailable, PlatformRejected) as error:
        logger.warning("cannot read silence %s: %s", silence_id, error)
        return  # the next tick tries again; the status keeps what was last known
    if silence is None:
        logger.warning("silence %s is gone from the platform", silence_id)
        return
    if silence.status.state != body.status.get("state"):
        patch.status.update(
            silence_status(
                body,
                silence_id=str(silence_id),
                state=silence.status.state,
                starts=silence.startsAt,
                ends=silence.endsAt,
            )
        )
