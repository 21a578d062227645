"""Delivering the notification outbox: claim under a lease, send concurrently, record.

One call of :func:`deliver_due`:

1. *Claim* up to ``limit`` due rows with ``FOR UPDATE SKIP LOCKED`` and set
   their ``lease_until``, then commit. Concurrent callers (threads, replicas)
   get disjoint rows, and no transaction stays open during network I/O. A
   worker that dies mid-send leaves the lease to lapse; the row is then claimed
   again (delivery is at least once; receivers get ``notification_id`` to
   de-duplicate).
2. *Send* every claimed row from a thread pool of ``notification_concurrency``
   threads, each request bounded by ``notification_timeout_seconds``, so a slow
   or dead receiver holds only its own thread.
3. *Record* each outcome as soon as it is known, in its own short transaction,
   and only while this call still holds the row's lease: sent (+ timeline
   ``notified``), retry later with exponential backoff and jitter, or failed
   (+ timeline ``notification_failed``) on a permanent error or the last
   allowed attempt.
"""

import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine

from incident_platform.clock import utc_now
from incident_platform.metrics import (
    FIRST_NOTIFICATION_LATENCY,
    NOTIFICATION_ERRORS,
    NOTIFICATIONS_SENT,
)
from incident_platform.notification import dispatch, outbox
from incident_platform.notification.messages import IncidentSummary
from incident_platform.notification.outbox import ClaimedNotification
from incident_platform.notification.retry import final_outcome, next_attempt_delay
from incident_platform.notification.rules import Outcome, SendResult
from incident_platform.notification.senders import make_http_client
from incident_platform.notification.signing import ack_key
from incident_platform.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Sent or not, but the outcome could not be written (the lease was lost, or the
    # database failed); the row is delivered again once its lease lapses.
    unrecorded: int = 0


def _fixed_clock(now: datetime) -> Callable[[], datetime]:
    return lambda: now


def deliver_due(
    engine: Engine,
    settings: Settings,
    now: datetime | None = None,
    *,
    limit: int = 100,
    jitter: Callable[[], float] = random.random,
    http_client: httpx.Client | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` due notifications; returns once every outcome is recorded.

    ``now`` fixes the clock (claiming, sent_at, backoff, message times) for tests;
    by default the wall clock is read as each step happens. Safe to call from
    several threads or replicas at once. Blocks for at most about one send
    timeout (HTTP) or a few (SMTP) beyond the database work: call it from a
    worker thread.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be timezone-aware")
    ack_key(settings)  # no key, no links: fail before leasing anything
    clock = _fixed_clock(now) if now is not None else utc_now
    report = DeliveryReport()
    lease = timedelta(seconds=settings.notification_lease_seconds)
    rows, incidents = outbox.claim(engine, clock(), limit, lease)
    report.claimed = len(rows)
    if not rows:
        return report
    client = http_client if http_client is not None else make_http_client(settings)
    try:
        workers = min(settings.notification_concurrency, len(rows))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool:
            futures = {
                pool.submit(
                    dispatch.send, settings, row, incidents.get(row.incident_id), client, clock
                ): row
                for row in rows
            }
            # In completion order: a fast receiver's outcome is written while a slow
            # one is still being waited for.
            for future in as_completed(futures):
                row = futures[future]
                _record(
                    engine,
                    settings,
                    row,
                    incidents.get(row.incident_id),
                    future.result(),
                    clock(),
                    jitter,
                    report,
                )
    finally:
        if http_client is None:
            client.close()
    return report


def _record(
    engine: Engine,
    settings: Settings,
    row: ClaimedNotification,
    incident: IncidentSummary | None,
    result: SendResult,
    at: datetime,
    jitter: Callable[[], float],
    report: DeliveryReport,
) -> None:
    attempts = row.attempts + 1
    result = SendResult(
        result.outcome, dispatch.scrub(result.detail, row), result.retry_after, result.reason
    )
    outcome, reason = final_outcome(result, attempts, settings.notification_max_attempts)
    # Counted whether or not the outcome can be written: the attempt happened.
    NOTIFICATIONS_SENT.labels(channel=row.channel, outcome=outcome.value).inc()
    if outcome is not Outcome.SENT:
        NOTIFICATION_ERRORS.labels(channel=row.channel, reason=result.reason.value).inc()
    next_attempt_at = at + next_attempt_delay(attempts, jitter(), result.retry_after)
    try:
        first = outbox.settle(engine, row, outcome, reason, next_attempt_at, at)
    except Exception:
        # The lease lapses and the row goes again; the other rows are still recorded.
        logger.exception("notification %s: outcome %s not recorded", row.id, outcome.value)
        report.unrecorded += 1
        return
    if first is None:
        logger.warning("notification %s: lease lost before recording %s", row.id, outcome.value)
        report.unrecorded += 1
        return
    log = logger.warning if outcome is Outcome.FAILED else logger.info
    log(
        "notification %s for incident %s to %s by %s: %s (%s)",
        row.id,
        row.incident_id,
        row.shown_address,
        row.channel,
        outcome.value,
        reason,
    )
    if outcome is Outcome.SENT:
        report.sent += 1
    elif outcome is Outcome.RETRY:
        report.retried += 1
    else:
        report.failed += 1
    if first and incident is not None:
        seconds = max((at - incident.created_at).total_seconds(), 0.0)
        FIRST_NOTIFICATION_LATENCY.labels(
            service=incident.service, severity=incident.severity
        ).observe(seconds)
