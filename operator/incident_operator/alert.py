"""Alert objects: delivered to the alert ingestion service, the outcome reported in status.

* create / update of the spec / resume after a restart: the alert is (re-)sent with a
  fingerprint derived from the object, so sending it again is a deduplication on the platform,
  never a second alert; ``spec.state: resolved`` sends the resolution;
* delete: kopf's finalizer holds the object until the alert is resolved on the platform, so an
  incident whose alerts are all deleted auto-resolves.

Outcomes: accepted -> ``phase`` Correlated or Resolved with the incident, ``Ready`` True;
refused (422 ...) -> ``phase`` Failed, ``Ready`` False ``Rejected`` with the service's message
and a ``kopf.PermanentError`` (not retried); platform down -> ``Ready`` False
``PlatformUnavailable`` and a ``kopf.TemporaryError`` (retried after Retry-After or backoff).
"""

from __future__ import annotations

from typing import Any

import kopf

from incident_operator.builders.alert import (
    alert_failure_status,
    alert_fingerprint,
    alert_request,
    alert_status,
)
from incident_operator.clients.core import PlatformRejected, PlatformUnavailable
from incident_operator.runtime import runtime_of


async def _deliver(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: kopf.Logger, retry: int
) -> None:
    platform = runtime_of(memo).platform
    fingerprint = alert_fingerprint(body)
    try:
        result = await platform.send_alert(alert_request(body), attempt=retry)
    except PlatformRejected as error:
        patch.status.update(
            alert_failure_status(
                error.message, reason="Rejected", fingerprint=fingerprint, body=body
            )
        )
        raise
    except PlatformUnavailable as error:
        patch.status.update(
            alert_failure_status(
                str(error), reason="PlatformUnavailable", fingerprint=fingerprint, body=body
            )
        )
        raise
    patch.status.update(alert_status(result, fingerprint=fingerprint, body=body))
    logger.info(
        "alert %s: %s (incident %s, fingerprint %s)",
        result.alert_id,
        result.action,
        result.incident_id,
        fingerprint,
    )


async def alert_create(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _deliver(body, patch, memo, logger, retry)


async def alert_update(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _deliver(body, patch, memo, logger, retry)


async def alert_resume(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    """After a restart: send again (a dedup) so the status is current and nothing was lost."""
    await _deliver(body, patch, memo, logger, retry)


async def alert_delete(
    body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, retry: int = 0, **_: Any
) -> None:
    """Resolve the alert on the platform before kopf lets the object go."""
    status = body.status
    if status.get("phase") == "Failed" and not status.get("alertId"):
        logger.info("alert was never accepted by the platform; nothing to resolve")
        return
    if body.spec.get("state") == "resolved" and status.get("phase") == "Resolved":
        return  # the resolution was delivered already
    platform = runtime_of(memo).platform
    try:
        result = await platform.send_alert(alert_request(body, state="resolved"), attempt=retry)
    except PlatformRejected as error:
        # Holding the object forever would not make the platform accept it.
        logger.warning("platform refused resolving the deleted alert: %s", error.message)
        return
    logger.info("deleted alert resolved on the platform: %s", result.action)
